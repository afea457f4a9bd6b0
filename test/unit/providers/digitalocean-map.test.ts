import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import type {DDroplet, DSnapshot} from '../../../src/providers/digitalocean/map.js'
import {labelsToTags, nextPage, sameKey, tagsToLabels, toMachine, toSnapshot} from '../../../src/providers/digitalocean/map.js'

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/providers/${name}`, import.meta.url), 'utf8')) as T

describe('digitalocean map', () => {
  it('maps an active droplet to its public addresses, tags as labels and size prices', () => {
    expect(toMachine(fixture<DDroplet>('digitalocean-droplet.json'))).toEqual({
      id: '3164444', name: 'runner-1', state: 'running', type: 's-1vcpu-1gb', region: 'nyc3', ipv4: '192.241.165.154',
      ipv6: '2604:a880:0:1010::18a:a001', labels: {pool: 'dist', arch: 'x86', ephemeral: ''}, createdAt: '2020-07-21T18:37:44Z',
      hourly: 0.00893, monthly: 6,
    })
  })

  it('maps a new droplet that has no networks yet', () => {
    const m = toMachine(fixture<DDroplet>('digitalocean-droplet-new.json'))
    expect(m).toMatchObject({state: 'new', region: 'fra1', labels: {}})
    expect(m.ipv4).toBeUndefined()
    expect(m.ipv6).toBeUndefined()
  })

  it.each([['new', 'new'], ['active', 'running'], ['off', 'off'], ['archive', 'deleting'], ['other', 'unknown']])('maps status %s to %s', (status, state) => {
    expect(toMachine({...fixture<DDroplet>('digitalocean-droplet.json'), status}).state).toBe(state)
  })

  it('maps a snapshot with null tags', () => {
    expect(toSnapshot(fixture<DSnapshot>('digitalocean-snapshot.json'))).toEqual({
      id: '6372321', name: 'forge-2026-03-01', createdAt: '2026-03-01T10:05:00Z', sizeGb: 2.34, labels: {},
    })
  })

  it('round-trips labels through tags', () => {
    const labels = {pool: 'dist', arch: 'x86', spare: '', url: 'a:b'}
    expect(labelsToTags(labels)).toEqual(['pool:dist', 'arch:x86', 'spare', 'url:a:b'])
    expect(tagsToLabels(labelsToTags(labels))).toEqual(labels)
  })

  it('reads the next page number from links and stops on the last page', () => {
    expect(nextPage({pages: {next: 'https://api.digitalocean.com/v2/droplets?page=2&per_page=200'}}, 1)).toBe(2)
    expect(nextPage({pages: {first: 'https://api.digitalocean.com/v2/droplets?page=1'}} as never, 2)).toBeUndefined()
    expect(nextPage(undefined, 1)).toBeUndefined()
    expect(nextPage({pages: {next: 'https://api.digitalocean.com/v2/droplets?page=1'}}, 1)).toBeUndefined()
  })

  it('compares public keys without their comments', () => {
    expect(sameKey('ssh-ed25519 AAAA me@a', ' ssh-ed25519  AAAA  other')).toBe(true)
    expect(sameKey('ssh-ed25519 AAAA', 'ssh-ed25519 AAAB')).toBe(false)
  })
})
