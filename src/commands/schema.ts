import {Command} from '@oclif/core/command'
import {jsonSchema} from '../fleet/schema.js'

export default class Schema extends Command {
  static summary = 'print the JSON Schema of fleet.yaml (for editor completion)'
  static examples = ['<%= config.bin %> schema > schemas/fleet.schema.json']

  async run(): Promise<void> {
    this.log(JSON.stringify(jsonSchema(), null, 2))
  }
}
