import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import type {HImage, HPricing, HServer} from '../../../src/providers/hetzner/map.js'
import {hasLabels, labelSelector, md5Fingerprint, serverTypePrice, toMachine, toSnapshot} from '../../../src/providers/hetzner/map.js'

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/providers/${name}`, import.meta.url), 'utf8')) as T

describe('hetzner map', () => {
  it('maps a server with the gross price of its own location', () => {
    expect(toMachine(fixture<HServer>('hetzner-server.json'))).toEqual({
      id: '42', name: 'web-1', state: 'running', type: 'cpx22', region: 'fsn1', ipv4: '1.2.3.4', ipv6: '2001:db8::/64',
      labels: {pool: 'web', 'just-a-key': ''}, createdAt: '2016-01-30T23:55:00Z', hourly: 0.0143, monthly: 8.925,
    })
  })

  it('maps a server without IPv6 and without prices', () => {
    const m = toMachine(fixture<HServer>('hetzner-server-ipv4-only.json'))
    expect(m).toMatchObject({id: '43', state: 'new', ipv4: '5.6.7.8', region: 'hel1'})
    expect(m.ipv6).toBeUndefined()
    expect(m).not.toHaveProperty('monthly')
  })

  it.each([
    ['running', 'running'], ['initializing', 'new'], ['starting', 'starting'], ['stopping', 'stopping'], ['off', 'off'],
    ['deleting', 'deleting'], ['rebuilding', 'starting'], ['migrating', 'starting'], ['unknown', 'unknown'], ['something-new', 'unknown'],
  ])('maps status %s to %s', (status, state) => {
    expect(toMachine({...fixture<HServer>('hetzner-server.json'), status}).state).toBe(state)
  })

  it('maps a snapshot, whose name lives in the description', () => {
    expect(toSnapshot(fixture<HImage>('hetzner-image-snapshot.json'))).toEqual({
      id: '4711', name: 'forge-2026-03-01', createdAt: '2026-03-01T10:05:00Z', sizeGb: 2.3, labels: {role: 'forge'},
    })
    expect(toSnapshot({...fixture<HImage>('hetzner-image-snapshot.json'), image_size: null})).not.toHaveProperty('sizeGb')
  })

  it('builds label selectors and matches labels exactly', () => {
    expect(labelSelector({pool: 'dist', spare: ''})).toBe('pool=dist,spare')
    expect(labelSelector({})).toBeUndefined()
    expect(hasLabels({pool: 'dist', a: 'b'}, {pool: 'dist'})).toBe(true)
    expect(hasLabels({pool: 'dist'}, {pool: 'web'})).toBe(false)
  })

  it('reads gross prices per type and location from /pricing', () => {
    const p = fixture<HPricing>('hetzner-pricing.json')
    expect(serverTypePrice(p, 'cx22', 'fsn1')).toEqual({monthly: 4.5101, hourly: 0.0071, currency: 'EUR'})
    expect(serverTypePrice(p, 'cx22', 'ash')).toBeUndefined()
    expect(serverTypePrice(p, 'cx99', 'fsn1')).toBeUndefined()
  })

  it('computes the MD5 fingerprint Hetzner lists keys by', () => {
    const key = `ssh-ed25519 ${Buffer.from('fleet-test-key').toString('base64')} me@host`
    expect(md5Fingerprint(key)).toBe('24:df:fd:fb:bc:9a:95:3d:50:1c:db:7f:ad:45:6c:24')
  })
})
