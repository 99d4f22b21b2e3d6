/** Types of manifestValidator.js, the manifest schema's validator that `npm run schema` generates. */
import type { ErrorObject } from 'ajv';

declare const validate: {
  (data: unknown): boolean;
  /** The errors of the last call that returned false (every one: compiled with allErrors). */
  errors?: ErrorObject[] | null;
};
export default validate;
