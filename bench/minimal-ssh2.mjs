// The library floor for `fleet exec`: connect to every host at once with ssh2, run one command, print, close.
// No config files, no host-key check, no concurrency cap, no CLI framework.
//   node bench/minimal-ssh2.mjs HOSTS_FILE KEY [COMMAND]    (HOSTS_FILE: one user@address:port a line)
import {readFileSync} from 'node:fs'
import ssh2 from 'ssh2'

const [hostsFile, keyFile, command = 'uptime'] = process.argv.slice(2)
const privateKey = readFileSync(keyFile)
const hosts = readFileSync(hostsFile, 'utf8').split('\n').filter(Boolean).map((line) => {
  const [, username, host, port] = /^(.+)@(.+):(\d+)$/.exec(line)
  return {username, host, port: Number(port)}
})

const runOn = (h) => new Promise((resolve) => {
  const client = new ssh2.Client()
  let out = ''
  const fail = (err) => resolve({host: h.host, code: null, out: err.message})
  client.on('error', fail)
  client.on('ready', () => client.exec(command, (err, ch) => {
    if (err) return fail(err)
    ch.on('data', (d) => (out += d))
    ch.stderr.resume()
    ch.on('close', (code) => {
      client.end()
      resolve({host: h.host, code, out})
    })
  }))
  client.connect({...h, privateKey, readyTimeout: 20_000})
})

const results = await Promise.all(hosts.map(runOn))
for (const r of results) process.stdout.write(`${r.host} | ${r.out.trim()}\n`)
process.exitCode = results.every((r) => r.code === 0) ? 0 : 5
