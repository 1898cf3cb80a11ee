import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { loadSchemas } from '../../src/http/schemas.js';

const addFormats = addFormatsPkg as unknown as (ajv: Ajv) => Ajv;

/** A validator for one schema of schemas/ by $id, independent of the app's own compiler. */
export function schemaValidator(id: string): ValidateFunction {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  for (const s of loadSchemas()) ajv.addSchema(s);
  return ajv.getSchema(id)!;
}
