import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { JsonSchema } from './schemas.js';

const addFormats = addFormatsPkg as unknown as (ajv: Ajv) => Ajv;

/**
 * Body schemas are strict: unknown properties are rejected (not silently removed) and no type
 * coercion happens. Querystring and params coerce strings ('10' → 10), as URLs carry text.
 */
export function makeValidatorCompiler(shared: JsonSchema[]): FastifySchemaCompiler<unknown> {
  const make = (coerce: boolean) => {
    const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, strict: false });
    addFormats(ajv);
    for (const s of shared) ajv.addSchema(s);
    return ajv;
  };
  const body = make(false);
  const other = make(true);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : other;
    const validate: ValidateFunction = ajv.compile(schema as object);
    return (data: unknown) => (validate(data) ? { value: data } : { error: Object.assign(new Error('validation failed'), { validation: validate.errors }) });
  };
}
