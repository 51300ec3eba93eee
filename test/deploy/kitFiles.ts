/** The operator's kit in deploy/, read as the tests of it need it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/config.js';
import { grafanaVariableExpr } from '../helpers/promql.js';

export const DEPLOY = path.join(PACKAGE_ROOT, 'deploy');
export const PROMETHEUS_CONFIG = path.join(DEPLOY, 'prometheus', 'prometheus.yml');
export const RULES = path.join(DEPLOY, 'prometheus', 'rules.yml');
export const RULES_TEST = path.join(DEPLOY, 'prometheus', 'rules.test.yml');
export const DASHBOARD = path.join(DEPLOY, 'grafana', 'dashboards', 'speech-gateway.json');
export const COMPOSE = path.join(DEPLOY, 'compose.yaml');

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export function readYaml(file: string): unknown {
  // merge: the compose file shares settings with YAML merge keys (<<), as the Compose specification documents.
  return parse(readFileSync(file, 'utf8'), { merge: true }) as unknown;
}

export function rules(): Rule[] {
  const doc = readYaml(RULES) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((group) => group.rules);
}

export interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly id: number;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: { readonly expr: string; readonly datasource?: { readonly uid: string } }[];
}

export interface Dashboard {
  readonly uid: string;
  readonly panels: DashboardPanel[];
  readonly templating: { readonly list: { readonly name: string; readonly query: { readonly query: string } | string; readonly datasource?: { readonly uid: string } }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every PromQL expression the kit runs: rule expressions, dashboard panel targets and variable queries, each with where it is. */
export function kitQueries(): { readonly where: string; readonly expr: string }[] {
  const queries = rules().map((rule) => ({ where: `rules.yml ${rule.alert ?? rule.record ?? '?'}`, expr: rule.expr }));
  const dash = dashboard();
  for (const panel of dash.panels) for (const target of panel.targets ?? []) queries.push({ where: `dashboard panel "${panel.title}"`, expr: target.expr });
  for (const variable of dash.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    queries.push({ where: `dashboard variable $${variable.name}`, expr: grafanaVariableExpr(query) });
  }
  return queries;
}

/** Series Prometheus makes itself: scrape health and the state of alerts. */
export const PROMETHEUS_SERIES = new Set(['up', 'ALERTS']);
