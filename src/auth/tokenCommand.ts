import { loadConfig } from '../config.js';
import { GatewayError } from '../errors.js';
import { isRole, ROLES } from './Principal.js';
import { TokenIssuer } from './TokenIssuer.js';

const TOKEN_FLAGS = ['--role', '--agent', '--queues', '--sub', '--ttl'] as const;

/**
 * `speech-gateway token --role agent --agent agent-007 --queues orders --ttl 8h`:
 * prints a JWT signed with the configured HS256 secret (JWT_SECRET) or RS256
 * private key (JWT_PRIVATE_KEY_FILE), with JWT_ISSUER / JWT_AUDIENCE when set.
 * For development and tests: production tokens come from the identity provider.
 */
export async function runTokenCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if ((TOKEN_FLAGS as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new GatewayError('SGW_CONFIG', `${flag} needs a value`);
      values.set(flag, value);
    } else {
      rest.push(arg);
    }
  }
  const role = values.get('--role');
  if (!isRole(role)) throw new GatewayError('SGW_CONFIG', `--role must be one of ${ROLES.join(', ')}`);
  const config = loadConfig(rest, env);
  const issuer = await TokenIssuer.create({ secret: config.jwtSecret, privateKeyFile: config.jwtPrivateKeyFile, issuer: config.jwtIssuer, audience: config.jwtAudience });
  const queues = values.get('--queues')?.split(',').map((q) => q.trim()).filter((q) => q !== '');
  const token = await issuer.issue({ role, agentId: values.get('--agent'), queues, subject: values.get('--sub'), ttl: values.get('--ttl') ?? '8h' });
  console.log(token);
  return 0;
}
