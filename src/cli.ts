#!/usr/bin/env node
import { helpText, loadConfig } from './config.js';
import { runDemo } from './demo/demo.js';
import { GatewayError } from './errors.js';
import { Gateway } from './Gateway.js';
import { createLogger } from './logger.js';

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv[0]?.startsWith('-') ? ['serve', ...argv] : argv;
  if (command === 'models') return (await import('./asr/models/cli.js')).runModelsCommand(rest);
  if (command === 'train-intents') return (await import('./analytics/classifier/trainCommand.js')).runTrainCommand(rest);
  if (command === 'token' && !rest.includes('--help')) return (await import('./auth/tokenCommand.js')).runTokenCommand(rest);
  if (command === 'report') return (await import('./insights/reportCommand.js')).runReportCommand(rest);
  if (rest.includes('--help') || rest.includes('-h') || command === 'help') {
    console.log(helpText());
    return 0;
  }
  const config = loadConfig(rest);
  switch (command) {
    case 'serve': {
      const logger = createLogger(config.logLevel);
      const { gateway } = await Gateway.start(config, logger);
      process.on('SIGHUP', () => {
        logger.info('SIGHUP: reloading grammars');
        void gateway.reloadGrammars();
      });
      // The first SIGTERM/SIGINT drains (or joins a drain the admin endpoint started); a second one ends it at once.
      // POST /v1/admin/drain drains the same way: either way the gateway exits by itself once the drain is over.
      let signals = 0;
      const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
        if (++signals === 1) {
          const running = gateway.drainStatus;
          if (running.state === 'draining') logger.info({ signal, origin: running.origin, deadline: running.deadline }, 'signal during a drain: it goes on to its deadline');
          gateway.drain(signal);
          return;
        }
        logger.warn({ signal }, 'second signal: ending the drain now');
        gateway.cutDrain();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const outcome = await gateway.drained;
      logger.info({ outcome }, 'shutting down');
      await gateway.close();
      return 0;
    }
    case 'demo': {
      // The demo prints events itself; the gateway's own log stays on warnings unless asked.
      const explicitLevel = rest.includes('--log-level') || process.env['LOG_LEVEL'] !== undefined;
      await runDemo(config, createLogger(explicitLevel ? config.logLevel : 'warn'));
      return 0;
    }
    default:
      console.error(`unknown command '${command}'\n\n${helpText()}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof GatewayError ? `speech-gateway: ${err.message}` : err);
    process.exitCode = err instanceof GatewayError ? 78 : 1;
  },
);
