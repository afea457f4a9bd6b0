import {describe, expect, it} from 'vitest'
import * as release from '../../../src/fleet/release.js'

describe('release steps as argv lists', () => {
  it('passes every variable as a positional argument, never inside the script', () => {
    const argv = release.startReplica('/srv/my app', {service: 'web', index: 1, port: 8081}, {instance: 'eu', bind: '10.0.0.5', command: 'node server.js', env: {NODE_ENV: 'production'}})
    expect(argv.slice(0, 2)).toEqual(['sh', '-c'])
    expect(argv.slice(3)).toEqual(['fleet-start', '/srv/my app', 'web', '1', '8081', '10.0.0.5', 'node server.js', 'eu', 'NODE_ENV=production'])
    expect(argv[2]).not.toContain('/srv/my app')
    expect(argv[2]).not.toContain('production')
  })

  it('switches atomically through a temporary link renamed over current', () => {
    const [, , script, , root, version] = release.switchRelease('/srv/eu', 'abc123')
    expect([root, version]).toEqual(['/srv/eu', 'abc123'])
    expect(script).toMatch(/ln -sfn "releases\/\$2" \.current\.tmp; mv -fT \.current\.tmp current/)
    expect(script).toContain('.fleet-complete')
  })

  it('builds prepare with the declared install command as separate arguments', () => {
    expect(release.prepareRelease('r', 'v1', ['npm', 'ci']).slice(3)).toEqual(['fleet-prepare', 'r', 'v1', 'npm', 'ci'])
    expect(release.prepareRelease('r', 'v1', undefined).slice(3)).toEqual(['fleet-prepare', 'r', 'v1'])
  })

  it('restarts a replica in one round trip: stop, then start', () => {
    const [, , script, ...args] = release.restartReplica('r', {service: 'web', index: 0, port: 80}, {instance: 'eu', bind: '0.0.0.0', command: 'run'}, 7)
    expect(args).toEqual(['fleet-restart', 'r', 'web', '0', '80', '0.0.0.0', 'run', 'eu', '7'])
    expect(script.indexOf('kill -TERM')).toBeLessThan(script.indexOf('nohup setsid'))
  })

  it('numbers replicas from the service port upwards', () => {
    expect(release.replicasOf({web: {port: 8080, replicas: 2}, worker: {port: 9000, replicas: 1}})).toEqual([
      {service: 'web', index: 0, port: 8080}, {service: 'web', index: 1, port: 8081}, {service: 'worker', index: 0, port: 9000},
    ])
  })
})

describe('observations', () => {
  const out = 'target\ncurrent v3\nreleases v1 v2 v3\nhistory v1 v2 v3\nproc web-0 up 41\nproc web-1 down 42\nproc web-2 absent\n'
  const one = (text: string) => release.parseObservations(text)[0]

  it('parses the observe output', () => {
    expect(one(out)).toEqual({
      current: 'v3', releases: ['v1', 'v2', 'v3'], history: ['v1', 'v2', 'v3'],
      processes: {'web-0': {up: true, pid: 41}, 'web-1': {up: false, pid: 42}, 'web-2': {up: false, pid: undefined}},
    })
  })

  it('finds the previous healthy release that is still installed', () => {
    expect(release.previousRelease(one(out))).toBe('v2')
    expect(release.previousRelease({current: 'v3', releases: ['v3', 'v1'], history: ['v1', 'v2', 'v3'], processes: {}})).toBe('v1')
    expect(release.previousRelease({current: 'v1', releases: ['v1'], history: ['v1'], processes: {}})).toBeUndefined()
  })

  it('treats an empty current as nothing deployed', () => {
    expect(one('target\ncurrent \nreleases\nhistory\n')).toEqual({current: undefined, releases: [], history: [], processes: {}})
  })

  it('splits one round trip over several roots into one observation each', () => {
    const argv = release.observeTargets([{root: '/a', replicas: [{service: 'web', index: 0}]}, {root: 'b', replicas: []}])
    expect(argv.slice(3)).toEqual(['fleet-observe', '/a', '1', 'web-0', 'b', '0'])
    expect(release.parseObservations('target\ncurrent v1\ntarget\ncurrent v2\nproc web-0 up 7\n').map(o => [o.current, Object.keys(o.processes)])).toEqual([['v1', []], ['v2', ['web-0']]])
  })
})
