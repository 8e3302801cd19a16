// Placeholder until this command lands; replaced by its implementation.
import { UserError } from '../errors.js';

export async function run(): Promise<number> {
  throw new UserError('provision is not implemented yet');
}
