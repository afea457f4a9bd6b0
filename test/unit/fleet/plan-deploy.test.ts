import {describe, expect, it} from 'vitest'
import {bootLimit, planDeploy} from '../../../src/fleet/plan/deploy.js'
import type {Fleet} from '../../../src/fleet/load.js'
import {parseFleet} from '../../../src/fleet/load.js'
import type {TargetStatus} from '../../../src/providers/runtime.js'
import {statusRow} from '../../../src/fleet/status.js'

const fleet: Fleet = parseFleet(`version: 1
providers: {home: {type: ssh}}
hosts:
  h1: {provider: home, address: 127.0.0.2}
  h2: {provider: home, address: 127.0.0.3}
instances:
  eu:
    runtime: ssh
    hosts: [h1, h2]
    release: {source: app}
    services: {web: {start: node server.js, port: 8080, replicas: 2}}
    rollout: {boot: 50%}
`, 'fleet.yaml')

const healthy = {ok: true, latencyMs: 3}
function observed(host: string, current: string | undefined, opts: {down?: boolean; reachable?: boolean; strays?: string[]} = {}): TargetStatus {
  const target = {instance: 'eu', host, runtime: 'ssh' as const, root: 'fleet/eu', bind: host}
  if (opts.reachable === false) return {target, reachable: false, error: 'host unreachable', releases: [], replicas: [], strays: []}
  return {
    target, reachable: true, current, releases: current ? [current] : [], strays: opts.strays ?? [],
    replicas: [0, 1].map(index => ({service: 'web', index, port: 8080 + index, process: 'up' as const, health: opts.down && index === 1 ? {ok: false, latencyMs: 0, error: 'HTTP 500'} : healthy})),
  }
}

describe('planDeploy', () => {
  const cases: [string, TargetStatus[], object[]][] = [
    ['first release everywhere', [observed('h1', undefined), observed('h2', undefined)], [{host: 'h1', action: 'deploy', reason: 'first release v2'}, {host: 'h2', action: 'deploy', reason: 'first release v2'}]],
    ['one host behind', [observed('h1', 'v2'), observed('h2', 'v1')], [{host: 'h1', action: 'noop'}, {host: 'h2', action: 'deploy', from: 'v1', reason: 'v1 -> v2'}]],
    ['a replica down on a current host', [observed('h1', 'v2', {down: true}), observed('h2', 'v2')], [{host: 'h1', action: 'restart', reason: 'unhealthy: web-1'}, {host: 'h2', action: 'noop'}]],
    ['a stray replica after scale-down', [observed('h1', 'v2', {strays: ['web-2']}), observed('h2', 'v2')], [{host: 'h1', action: 'restart', strays: ['web-2']}, {host: 'h2', action: 'noop'}]],
    ['an unreachable host', [observed('h1', 'v1', {reachable: false}), observed('h2', 'v1')], [{host: 'h1', action: 'unreachable', reason: 'host unreachable'}, {host: 'h2', action: 'deploy'}]],
  ]
  it.each(cases)('%s', (_name, targets, expected) => {
    const plan = planDeploy(fleet, {eu: targets}, {eu: 'v2'}, ['eu'])
    expect(plan.instances[0].targets).toMatchObject(expected)
    expect(plan.instances[0].boot).toBe(1)
    expect(plan.changes).toBe(expected.filter(t => (t as {action: string}).action !== 'noop').length)
  })

  it('redeploys current targets with force', () => {
    const plan = planDeploy(fleet, {eu: [observed('h1', 'v2'), observed('h2', 'v2')]}, {eu: 'v2'}, ['eu'], {force: true})
    expect(plan.instances[0].targets.map(t => t.action)).toEqual(['deploy', 'deploy'])
  })

  it('turns a boot percentage into a batch size of at least one', () => {
    expect([bootLimit(1, 10), bootLimit(3, 2), bootLimit('50%', 4), bootLimit('50%', 1), bootLimit('25%', 10)]).toEqual([1, 3, 2, 1, 2])
  })
})

describe('statusRow', () => {
  it('summarises health, latency and replicas', () => {
    expect(statusRow(observed('h1', 'v2'))).toMatchObject({host: 'h1', release: 'v2', health: 'ok', latencyMs: 3, replicas: {up: 2, healthy: 2, desired: 2}})
    expect(statusRow(observed('h1', 'v2', {down: true}))).toMatchObject({health: 'degraded', replicas: {healthy: 1}, error: 'web-1: HTTP 500'})
    expect(statusRow(observed('h1', 'v2', {reachable: false}))).toMatchObject({health: 'unreachable', error: 'host unreachable'})
  })
})
