/**
 * The operator's kit (deploy/): Prometheus's own tool checks the config and
 * the alert rules and runs the rules' unit tests; the dashboard's queries are
 * checked as PromQL by the same tool; the compose file (no Docker engine
 * here) is parsed and its parts checked against each other: the gateways
 * Prometheus scrapes, the files it mounts, the RTP ranges they publish.
 * That every metric queried exists on a real gateway: live-metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { PACKAGE_ROOT } from '../../src/config.js';
import { exposedMetricTypes, grafanaVariableExpr, isExposed, metricNames } from '../helpers/promql.js';
import { COMPOSE, DASHBOARD, DEPLOY, PROMETHEUS_CONFIG, RULES, RULES_TEST, dashboard, kitQueries, readYaml, rules } from './kitFiles.js';

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('Prometheus config and alert rules', () => {
  test('promtool check config accepts prometheus.yml and the rule file it loads', () => {
    const { status, output } = promtool('check', 'config', PROMETHEUS_CONFIG);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 1 rule files found/);
  });

  test('promtool check rules accepts rules.yml; every alert has a severity, a summary, a description and a section in docs/deployment.md', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    assert.equal(status, 0, output);
    const deployment = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'deployment.md'), 'utf8');
    const alerts = rules().filter((rule) => rule.alert !== undefined);
    assert.ok(alerts.length >= 10, `${alerts.length} alerts`);
    for (const rule of alerts) {
      const name = rule.alert as string;
      assert.match(rule.labels?.['severity'] ?? '', /^(critical|warning)$/, `${name}: severity`);
      assert.ok((rule.annotations?.['summary'] ?? '').length > 10, `${name}: summary`);
      assert.ok((rule.annotations?.['description'] ?? '').length > 80, `${name}: a description that tells the on-call what to check`);
      assert.equal(rule.annotations?.['runbook'], `docs/deployment.md#${name.toLowerCase()}`, `${name}: runbook`);
      assert.match(deployment, new RegExp(`^#+ ${name}$`, 'm'), `${name}: a section in docs/deployment.md`);
    }
  });

  test('promtool test rules: every alert fires on its input series, and a healthy instance beside it stays quiet', () => {
    const { status, output } = promtool('test', 'rules', RULES_TEST);
    assert.equal(status, 0, output);
    // Every alert is exercised with at least one expected firing, not only "nothing fires".
    const tests = (readYaml(RULES_TEST) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const fired = new Set(tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
    const untested = rules().flatMap((rule) => (rule.alert !== undefined && !fired.has(rule.alert) ? [rule.alert] : []));
    assert.deepEqual(untested, [], 'alerts without a firing test case in rules.test.yml');
  });
});

describe('Grafana dashboard and provisioning', () => {
  test('every dashboard query is valid PromQL (promtool checks them as recording rules)', () => {
    const queries = kitQueries().filter((q) => q.where.startsWith('dashboard'));
    assert.ok(queries.length >= 25, `${queries.length} queries`);
    // Grafana's variables as Grafana would fill them in.
    const groups = [
      {
        name: 'dashboard',
        rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*') })),
      },
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'sgw-dashboard-'));
    try {
      const file = path.join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups }));
      const { status, output } = promtool('check', 'rules', file);
      assert.equal(status, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('panels use the provisioned data source, have unique ids, and break down by instance', () => {
    const dash = dashboard();
    const datasources = readYaml(path.join(DEPLOY, 'grafana', 'provisioning', 'datasources', 'prometheus.yml')) as { datasources: { uid: string; url: string }[] };
    const uid = datasources.datasources[0]?.uid;
    assert.equal(datasources.datasources[0]?.url, 'http://prometheus:9090', 'the compose service of Prometheus');
    const ids = dash.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
    const queryPanels = dash.panels.filter((p) => p.type !== 'row');
    for (const panel of queryPanels) {
      assert.equal(panel.datasource?.uid, uid, `${panel.title}: data source`);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title}: queries`);
      for (const target of panel.targets ?? []) assert.match(target.expr, /instance=~"\$instance"|ALERTS/, `${panel.title}: filtered by the $instance variable`);
    }
    const timeseries = queryPanels.filter((p) => p.type === 'timeseries');
    for (const panel of timeseries) {
      for (const target of panel.targets ?? []) {
        const grouped = /\bby \(([^)]*)\)/.exec(target.expr);
        assert.ok(grouped === null || grouped[1]?.includes('instance'), `${panel.title}: per-instance breakdown (${target.expr})`);
      }
    }
    const provider = readYaml(path.join(DEPLOY, 'grafana', 'provisioning', 'dashboards', 'speech-gateway.yml')) as { providers: { options: { path: string } }[] };
    const compose = readYaml(COMPOSE) as ComposeFile;
    const mounts = (compose.services['grafana']?.volumes ?? []).map(parseMount);
    const dashboards = mounts.find((m) => m.source === path.dirname(DASHBOARD));
    assert.equal(dashboards?.target, provider.providers[0]?.options.path, 'Grafana loads the dashboards from where compose mounts them');
    assert.ok(mounts.some((m) => m.source === path.join(DEPLOY, 'grafana', 'provisioning') && m.target === '/etc/grafana/provisioning'));
  });
});

interface ComposeService {
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly image?: string;
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
  readonly volumes?: string[];
  readonly stop_grace_period?: string;
  readonly depends_on?: Record<string, unknown> | string[];
}

interface ComposeFile {
  readonly services: Record<string, ComposeService | undefined>;
  readonly volumes?: Record<string, unknown>;
}

/** `./dir:/target:ro` → absolute source (relative to deploy/), target; a named volume keeps its name. */
function parseMount(spec: string): { source: string; target: string } {
  const [source = '', target = ''] = spec.split(':');
  return { source: source.startsWith('.') ? path.resolve(DEPLOY, source) : source, target };
}

/** `10m`, `90s`, `1h30m` → ms. */
function durationMs(value: string): number {
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(h|m|s)/g)) ms += Number(amount) * { h: 3_600_000, m: 60_000, s: 1000 }[unit as 'h' | 'm' | 's'];
  return ms;
}

describe('compose file', () => {
  const compose = readYaml(COMPOSE) as ComposeFile;
  const gateways = Object.entries(compose.services).filter(([, service]) => service?.build !== undefined) as [string, ComposeService][];

  test('Redis 7, two gateways built from the repository Dockerfile, Prometheus and Grafana', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['gateway-a', 'gateway-b', 'grafana', 'prometheus', 'redis']);
    assert.match(compose.services['redis']?.image ?? '', /^redis:7/);
    assert.deepEqual(gateways.map(([name]) => name).sort(), ['gateway-a', 'gateway-b']);
    for (const [name, service] of gateways) {
      const context = path.resolve(DEPLOY, service.build?.context ?? '');
      assert.equal(context, PACKAGE_ROOT, `${name}: built from the repository`);
      assert.ok(existsSync(path.join(context, service.build?.dockerfile ?? '')), `${name}: Dockerfile`);
      const env = service.environment ?? {};
      assert.equal(env['REDIS_URL'], 'redis://redis:6379', `${name}: REDIS_URL names the redis service`);
      assert.ok((env['JWT_SECRET'] ?? '').startsWith('${JWT_SECRET:?'), `${name}: refuses to start without a JWT secret`);
      // Docker kills at stop_grace_period: the drain must end before it.
      assert.ok(durationMs(service.stop_grace_period ?? '10s') > Number(env['DRAIN_TIMEOUT_MS']), `${name}: stop_grace_period above DRAIN_TIMEOUT_MS`);
      assert.ok(Object.keys(compose.volumes ?? {}).includes((service.volumes ?? []).map(parseMount).find((m) => m.target === '/app/var')?.source ?? ''), `${name}: records on a volume`);
    }
  });

  test('each gateway has its own RTP range, published port for port, and its own RTP_HOST', () => {
    const ranges = gateways.map(([name, service]) => {
      const env = service.environment ?? {};
      const min = Number(env['RTP_PORT_MIN']);
      const max = Number(env['RTP_PORT_MAX']);
      assert.ok(Number.isInteger(min) && Number.isInteger(max) && min % 2 === 0 && max > min, `${name}: RTP range ${min}-${max}`);
      assert.ok(service.ports?.includes(`${min}-${max}:${min}-${max}/udp`), `${name}: RTP range published on the same host ports (${service.ports?.join(', ')})`);
      assert.ok((env['RTP_HOST'] ?? '').length > 0, `${name}: RTP_HOST`);
      return { name, min, max, host: env['RTP_HOST'] };
    });
    const [a, b] = ranges;
    assert.ok(a !== undefined && b !== undefined);
    assert.ok(a.max < b.min || b.max < a.min, `ranges overlap: ${a.min}-${a.max} and ${b.min}-${b.max}`);
    assert.notEqual(a.host, b.host, 'RTP_HOST can be set per instance');
    const published = gateways.flatMap(([, service]) => (service.ports ?? []).map((p) => p.split(':')[0]));
    assert.equal(new Set(published).size, published.length, `host ports published twice: ${published.join(', ')}`);
  });

  test('Prometheus scrapes both gateways on their HTTP port, with the config and rules mounted where it reads them', () => {
    const config = readYaml(PROMETHEUS_CONFIG) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; rule_files: string[] };
    const job = config.scrape_configs.find((c) => c.job_name === 'speech-gateway');
    const targets = job?.static_configs.flatMap((c) => c.targets).sort();
    assert.deepEqual(targets, gateways.map(([name, service]) => `${name}:${service.environment?.['HTTP_PORT']}`).sort());
    // The rules select job="speech-gateway": the job name is part of their contract.
    const recorded = new Set(rules().flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));
    for (const rule of rules()) {
      const readsScrapes = [...metricNames(rule.expr)].some((name) => !recorded.has(name));
      assert.ok(!readsScrapes || rule.expr.includes('job="speech-gateway"'), `${rule.alert ?? rule.record}: selects the scrape job`);
    }
    const prometheus = compose.services['prometheus'];
    const mount = (prometheus?.volumes ?? []).map(parseMount).find((m) => m.source === path.dirname(PROMETHEUS_CONFIG));
    assert.ok(mount !== undefined, 'deploy/prometheus is mounted');
    assert.ok(prometheus?.command?.includes(`--config.file=${mount.target}/prometheus.yml`), 'Prometheus reads the mounted config');
    for (const file of config.rule_files) assert.ok(existsSync(path.join(path.dirname(PROMETHEUS_CONFIG), file)), `rule file ${file} next to the config`);
  });
});

describe('metric names of PromQL expressions', () => {
  test('names are found in selectors, functions, aggregations and binary operations; labels, strings, durations and keywords are not names', () => {
    const names = (expr: string): string[] => [...metricNames(expr)].sort();
    assert.deepEqual(names('histogram_quantile(0.95, sum by (instance, le) (rate(sgw_event_latency_seconds_bucket{type="intent"}[5m])))'), ['sgw_event_latency_seconds_bucket']);
    assert.deepEqual(names('sum(rate(a_total{x=~"b|c"}[5m] offset 1h)) by (job) / on(instance) group_left(zone) b_info'), ['a_total', 'b_info']);
    assert.deepEqual(names('sgw_asr_load_cores / sgw_asr_capacity_cores > 0.9'), ['sgw_asr_capacity_cores', 'sgw_asr_load_cores']);
    assert.deepEqual(names('absent(up{job="speech-gateway"} == 1)'), ['up']);
    assert.deepEqual(names('count(ALERTS{alertstate="firing"}) or vector(0)'), ['ALERTS']);
    assert.deepEqual(names('min_over_time(x_buffered[5m:30s]) > 0 and bool y unless z'), ['x_buffered', 'y', 'z']);
    assert.deepEqual(names('label_replace(rate(m_total[$__rate_interval]), "dst", "$1", "src", "(.*)") * 60 + 1e3'), ['m_total']);
    assert.deepEqual(names(grafanaVariableExpr('label_values(up{job="speech-gateway"}, instance)')), ['up']);
  });

  test('a histogram is exposed under its _bucket, _sum and _count series, a counter only under its own name', () => {
    const types = exposedMetricTypes('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE c_total counter\nc_total 1\n# TYPE g gauge\ng 0\n');
    assert.ok(isExposed('h_bucket', types) && isExposed('h_sum', types) && isExposed('h_count', types) && isExposed('c_total', types) && isExposed('g', types));
    assert.ok(!isExposed('c', types) && !isExposed('c_total_count', types) && !isExposed('g_bucket', types) && !isExposed('missing', types));
  });
});
