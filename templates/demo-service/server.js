// The demo service of the embedded fleet: a tiny HTTP server whose /health reports the release it runs.
// A release directory that contains a file named BROKEN answers /health with 500 (used to exercise rollback), and
// so does a host whose ~/.fleet-demo-broken lists this version (a fault on one host only).
// REQUIRED_SECRETS (comma-separated names) must be set and free of whitespace for /health to pass; their
// fingerprints (never their values) are served at /secret-fingerprint/NAME so a rotation can be verified.
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {createServer} from 'node:http'

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const version = process.env.FLEET_VERSION ?? 'dev'
const brokenHere = () => { try { return readFileSync(`${process.env.HOME}/.fleet-demo-broken`, 'utf8').split(/\s+/).includes(version) } catch { return false } }
const broken = existsSync(new URL('./BROKEN', import.meta.url)) || brokenHere()
const started = new Date().toISOString()
const required = (process.env.REQUIRED_SECRETS ?? '').split(',').filter(Boolean)
const malformed = required.filter(n => !process.env[n] || /\s/.test(process.env[n]))

const server = createServer((req, res) => {
  const body = (status, value) => {
    res.writeHead(status, {'content-type': 'application/json'})
    res.end(JSON.stringify(value) + '\n')
  }
  if (req.url === '/health') {
    if (malformed.length) return body(500, {status: 'secrets missing or malformed', names: malformed, version})
    return broken ? body(500, {status: 'broken', version}) : body(200, {status: 'ok', version, instance: process.env.FLEET_INSTANCE, replica: Number(process.env.FLEET_REPLICA ?? 0), pid: process.pid, started})
  }
  const fp = /^\/secret-fingerprint\/([A-Z_][A-Z0-9_]*)$/.exec(req.url ?? '')
  if (fp && required.includes(fp[1])) return body(200, {name: fp[1], sha256: createHash('sha256').update(process.env[fp[1]] ?? '').digest('hex').slice(0, 16)})
  if (req.url === '/') return body(200, {hello: 'fleet demo', version})
  body(404, {error: 'not found'})
})

server.listen(port, host)
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
