import {FleetCommand} from '../base-command.js'

export interface ValidateResult {
  file: string
  valid: true
  instances: number
  hosts: number
  providers: number
}

export default class Validate extends FleetCommand<ValidateResult> {
  static summary = 'check the fleet file and report every problem with its file:line:column'
  static examples = ['<%= config.bin %> validate', '<%= config.bin %> validate --file ops/fleet.yaml --json']

  async run(): Promise<ValidateResult> {
    await this.parse(Validate)
    const fleet = await this.loadFleet()
    const {spec} = fleet
    const count = (o: object | undefined) => Object.keys(o ?? {}).length
    const result = {file: this.flagsBase.file, valid: true as const, instances: count(spec.instances), hosts: count(spec.hosts), providers: count(spec.providers)}
    return this.finish(result, () => `${result.file}: valid (${result.instances} instances, ${result.hosts} hosts, ${result.providers} providers)`)
  }
}
