/**
 * Checks a parsed CloudFormation template the way CloudFormation would before creating
 * anything: every Ref, GetAtt, Sub variable, condition and DependsOn points at something
 * defined; and, given the resource specification, every resource type exists, every
 * property is known (a misspelling is named with the nearest real name), required
 * properties are present and values have the right shape.
 *
 * The specification is the AWS CDK's service database (npm `@aws-cdk/aws-service-spec`,
 * file `db.json.gz`), read through `specIndex`: resources by CloudFormation type, with
 * their properties, attributes and property types. Intrinsic functions stand for values
 * known only at deploy time and are accepted where any value is; `Fn::If` branches are
 * checked on their own.
 */
import { nearest } from '../config.js';

// ---------------------------------------------------------------- the specification

export type SpecType =
  | { type: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };

export interface SpecProperty {
  type: SpecType;
  required?: boolean;
}

export interface SpecResource {
  cloudFormationType: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, { type: SpecType }>;
}

export interface SpecTypeDefinition {
  $id: string;
  name: string;
  properties: Record<string, SpecProperty>;
}

export interface SpecIndex {
  resource(type: string): SpecResource | undefined;
  typeDefinition(id: string): SpecTypeDefinition | undefined;
}

type Entities<T> = { entities: T[] | Record<string, T> };

/** An index over the service database's saved form (`{ idCtr, schema: { resource, typeDefinition, ... } }`). */
export function specIndex(database: { schema: { resource: Entities<SpecResource>; typeDefinition: Entities<SpecTypeDefinition> } }): SpecIndex {
  const resources = new Map<string, SpecResource>();
  for (const r of Object.values(database.schema.resource.entities)) resources.set(r.cloudFormationType, r);
  const types = new Map<string, SpecTypeDefinition>();
  for (const t of Object.values(database.schema.typeDefinition.entities)) types.set(t.$id, t);
  return { resource: (type) => resources.get(type), typeDefinition: (id) => types.get(id) };
}

// ---------------------------------------------------------------- the template

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const PSEUDO_PARAMETERS = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];
const RESOURCE_KEYS = ['Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy', 'Metadata', 'CreationPolicy', 'UpdatePolicy'];
const POLICIES = ['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate'];
const PARAMETER_TYPES = /^(String|Number|List<Number>|CommaDelimitedList|AWS::[A-Za-z0-9:]+|List<AWS::[A-Za-z0-9:]+>)$/;

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ Ref: x }` or `{ "Fn::...": x }`, alone in its object. */
function intrinsic(value: Json | undefined): { name: string; arg: Json } | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const name = keys[0]!;
  return name === 'Ref' || name === 'Condition' || name.startsWith('Fn::') ? { name, arg: value[name]! } : undefined;
}

/** `${Name}` and `${Name.Attr}` variables of a Fn::Sub string; `${!Literal}` is not one. */
export function subVariables(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) if (!match[1]!.startsWith('!')) out.push(match[1]!.trim());
  return out;
}

interface Context {
  template: JsonObject;
  resources: JsonObject;
  parameters: JsonObject;
  conditions: JsonObject;
  spec?: SpecIndex;
  problems: string[];
}

export function validateTemplate(template: unknown, spec?: SpecIndex): string[] {
  const problems: string[] = [];
  if (!isObject(template as Json)) return ['the template is not a mapping'];
  const t = template as JsonObject;
  const section = (name: string): JsonObject => {
    const value = t[name];
    if (value === undefined) return {};
    if (!isObject(value)) {
      problems.push(`${name}: expected a mapping`);
      return {};
    }
    return value;
  };
  const known = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings', 'Conditions', 'Transform', 'Resources', 'Outputs'];
  for (const key of Object.keys(t)) if (!known.includes(key)) problems.push(`${key}: not a template section${hint(key, known)}`);
  const ctx: Context = { template: t, resources: section('Resources'), parameters: section('Parameters'), conditions: section('Conditions'), spec, problems };
  if (Object.keys(ctx.resources).length === 0) problems.push('Resources: a template needs at least one resource');
  if (Object.keys(ctx.resources).length > 500) problems.push('Resources: more than 500 resources');

  for (const [name, parameter] of Object.entries(ctx.parameters)) checkParameter(ctx, name, parameter);
  for (const [name, condition] of Object.entries(ctx.conditions)) checkReferences(ctx, condition, `Conditions.${name}`, undefined);
  for (const [logicalId, resource] of Object.entries(ctx.resources)) checkResource(ctx, logicalId, resource);
  for (const [name, output] of Object.entries(section('Outputs'))) {
    const where = `Outputs.${name}`;
    if (!isObject(output) || output.Value === undefined) {
      problems.push(`${where}: needs a Value`);
      continue;
    }
    const condition = typeof output.Condition === 'string' ? output.Condition : undefined;
    if (output.Condition !== undefined) checkConditionName(ctx, output.Condition, `${where}.Condition`);
    checkReferences(ctx, output.Value, `${where}.Value`, condition);
  }
  return problems;
}

function hint(word: string, candidates: string[]): string {
  const best = nearest(word, candidates);
  return best ? ` (did you mean '${best}'?)` : '';
}

function checkParameter(ctx: Context, name: string, parameter: Json): void {
  const where = `Parameters.${name}`;
  if (!isObject(parameter) || typeof parameter.Type !== 'string') return void ctx.problems.push(`${where}: needs a Type`);
  if (!PARAMETER_TYPES.test(parameter.Type)) ctx.problems.push(`${where}.Type: '${parameter.Type}' is not a parameter type`);
  const allowed = parameter.AllowedValues;
  if (Array.isArray(allowed) && parameter.Default !== undefined && !allowed.some((a) => String(a) === String(parameter.Default))) {
    ctx.problems.push(`${where}.Default: '${String(parameter.Default)}' is not one of AllowedValues`);
  }
}

function checkConditionName(ctx: Context, name: Json, where: string): void {
  if (typeof name !== 'string' || ctx.conditions[name] === undefined) ctx.problems.push(`${where}: no condition named '${String(name)}'${typeof name === 'string' ? hint(name, Object.keys(ctx.conditions)) : ''}`);
}

function checkResource(ctx: Context, logicalId: string, resource: Json): void {
  const where = `Resources.${logicalId}`;
  if (!/^[A-Za-z0-9]+$/.test(logicalId)) ctx.problems.push(`${where}: a logical id has only letters and digits`);
  if (!isObject(resource) || typeof resource.Type !== 'string') return void ctx.problems.push(`${where}: needs a Type`);
  for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.includes(key)) ctx.problems.push(`${where}: unknown resource attribute '${key}'${hint(key, RESOURCE_KEYS)}`);
  for (const key of ['DeletionPolicy', 'UpdateReplacePolicy']) {
    const policy = resource[key];
    if (policy !== undefined && !(typeof policy === 'string' && POLICIES.includes(policy))) ctx.problems.push(`${where}.${key}: '${String(policy)}' is not one of ${POLICIES.join(', ')}`);
  }
  const condition = typeof resource.Condition === 'string' ? resource.Condition : undefined;
  if (resource.Condition !== undefined) checkConditionName(ctx, resource.Condition, `${where}.Condition`);
  const dependsOn = resource.DependsOn === undefined ? [] : Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn];
  for (const target of dependsOn) {
    if (typeof target !== 'string' || ctx.resources[target] === undefined) ctx.problems.push(`${where}.DependsOn: no resource named '${String(target)}'`);
    else checkConditionalTarget(ctx, target, condition, [], `${where}.DependsOn`);
  }
  const properties = resource.Properties ?? {};
  if (!isObject(properties)) return void ctx.problems.push(`${where}.Properties: expected a mapping`);
  checkReferences(ctx, properties, `${where}.Properties`, condition);
  if (!ctx.spec) return;
  const spec = ctx.spec.resource(resource.Type);
  if (!spec) {
    ctx.problems.push(`${where}.Type: '${resource.Type}' is not a resource type of the CloudFormation specification`);
    return;
  }
  checkProperties(ctx, properties, spec.properties, `${where}.Properties`);
}

// ---------------------------------------------------------------- references

const REFERENCE_FUNCTIONS = new Set(['Ref', 'Condition', 'Fn::GetAtt', 'Fn::Sub', 'Fn::If', 'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::Equals', 'Fn::Not', 'Fn::And', 'Fn::Or', 'Fn::Base64', 'Fn::FindInMap', 'Fn::GetAZs', 'Fn::ImportValue', 'Fn::Cidr', 'Fn::Length', 'Fn::ToJsonString']);

/**
 * Walks a value for intrinsic functions and checks what each names. `guards` are the
 * conditions known true where the value sits (the resource's own, and Fn::If branches):
 * a resource that exists only under a condition may be referenced only under it.
 */
function checkReferences(ctx: Context, value: Json, where: string, condition: string | undefined, guards: string[] = []): void {
  const fn = intrinsic(value);
  if (!fn) {
    if (Array.isArray(value)) value.forEach((v, i) => checkReferences(ctx, v, `${where}[${i}]`, condition, guards));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) checkReferences(ctx, v, `${where}.${k}`, condition, guards);
    return;
  }
  const { name, arg } = fn;
  const at = `${where}.${name}`;
  if (!REFERENCE_FUNCTIONS.has(name)) return void ctx.problems.push(`${at}: unknown intrinsic function${hint(name, [...REFERENCE_FUNCTIONS])}`);
  switch (name) {
    case 'Ref': {
      if (typeof arg !== 'string') return void ctx.problems.push(`${at}: expected a name`);
      if (ctx.resources[arg] !== undefined) return checkConditionalTarget(ctx, arg, condition, guards, at);
      if (ctx.parameters[arg] === undefined && !PSEUDO_PARAMETERS.includes(arg)) {
        ctx.problems.push(`${at}: '${arg}' is neither a parameter, a resource nor a pseudo parameter${hint(arg, [...Object.keys(ctx.parameters), ...Object.keys(ctx.resources), ...PSEUDO_PARAMETERS])}`);
      }
      return;
    }
    case 'Condition':
      return checkConditionName(ctx, arg, at);
    case 'Fn::GetAtt': {
      const parts = typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : arg;
      if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || parts[0] === '') return void ctx.problems.push(`${at}: expected [Resource, Attribute]`);
      checkGetAtt(ctx, parts[0], parts[1]!, condition, guards, at);
      return;
    }
    case 'Fn::Sub': {
      const empty: JsonObject = {};
      const [text, variables]: [Json | undefined, Json] = typeof arg === 'string' ? [arg, empty] : Array.isArray(arg) ? [arg[0], arg[1] ?? empty] : [undefined, empty];
      if (typeof text !== 'string' || !isObject(variables)) return void ctx.problems.push(`${at}: expected a string or [string, {variables}]`);
      for (const [k, v] of Object.entries(variables)) checkReferences(ctx, v, `${at}.${k}`, condition, guards);
      for (const variable of subVariables(text)) {
        if (variables[variable] !== undefined || PSEUDO_PARAMETERS.includes(variable) || ctx.parameters[variable] !== undefined) continue;
        if (ctx.resources[variable] !== undefined) {
          checkConditionalTarget(ctx, variable, condition, guards, at);
          continue;
        }
        const dot = variable.indexOf('.');
        if (dot > 0 && ctx.resources[variable.slice(0, dot)] !== undefined) {
          checkGetAtt(ctx, variable.slice(0, dot), variable.slice(dot + 1), condition, guards, at);
          continue;
        }
        ctx.problems.push(`${at}: \${${variable}} names no parameter, resource or variable${hint(variable, [...Object.keys(ctx.parameters), ...Object.keys(ctx.resources)])}`);
      }
      return;
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') return void ctx.problems.push(`${at}: expected [Condition, ValueIfTrue, ValueIfFalse]`);
      checkConditionName(ctx, arg[0], `${at}[0]`);
      checkReferences(ctx, arg[1]!, `${at}[1]`, condition, [...guards, arg[0]]);
      checkReferences(ctx, arg[2]!, `${at}[2]`, condition, guards);
      return;
    }
    default:
      checkReferences(ctx, arg, at, condition, guards);
  }
}

function checkConditionalTarget(ctx: Context, target: string, condition: string | undefined, guards: string[], where: string): void {
  const resource = ctx.resources[target];
  const needs = isObject(resource) && typeof resource.Condition === 'string' ? resource.Condition : undefined;
  if (needs && needs !== condition && !guards.includes(needs)) {
    ctx.problems.push(`${where}: '${target}' exists only when ${needs} is true, but is used where that is not known`);
  }
}

function checkGetAtt(ctx: Context, target: string, attribute: Json, condition: string | undefined, guards: string[], where: string): void {
  const resource = ctx.resources[target];
  if (!isObject(resource)) return void ctx.problems.push(`${where}: no resource named '${target}'${hint(target, Object.keys(ctx.resources))}`);
  checkConditionalTarget(ctx, target, condition, guards, where);
  if (typeof attribute !== 'string') return; // an intrinsic attribute name: known at deploy time only
  if (!ctx.spec || typeof resource.Type !== 'string') return;
  const spec = ctx.spec.resource(resource.Type);
  if (spec && spec.attributes[attribute] === undefined) {
    ctx.problems.push(`${where}: ${resource.Type} has no attribute '${attribute}'${hint(attribute, Object.keys(spec.attributes))}`);
  }
}

// ---------------------------------------------------------------- properties against the spec

function checkProperties(ctx: Context, value: JsonObject, properties: Record<string, SpecProperty>, where: string): void {
  for (const [key, item] of Object.entries(value)) {
    const property = properties[key];
    if (!property) {
      ctx.problems.push(`${where}: unknown property '${key}'${hint(key, Object.keys(properties))}`);
      continue;
    }
    checkValue(ctx, item, property.type, `${where}.${key}`);
  }
  for (const [key, property] of Object.entries(properties)) {
    if (property.required && value[key] === undefined) ctx.problems.push(`${where}: required property '${key}' is missing`);
  }
}

/** Problems of `value` against `type`, without recording them (for unions). */
function problemsOf(ctx: Context, value: Json, type: SpecType, where: string): string[] {
  const scratch: Context = { ...ctx, problems: [] };
  checkValue(scratch, value, type, where);
  return scratch.problems;
}

function checkValue(ctx: Context, value: Json, type: SpecType, where: string): void {
  const fn = intrinsic(value);
  if (fn) {
    if (fn.name === 'Fn::If' && Array.isArray(fn.arg) && fn.arg.length === 3) {
      for (const branch of [fn.arg[1]!, fn.arg[2]!]) {
        if (intrinsic(branch)?.name === 'Ref' && intrinsic(branch)?.arg === 'AWS::NoValue') continue;
        checkValue(ctx, branch, type, where);
      }
    }
    return;
  }
  const wrong = (expected: string) => ctx.problems.push(`${where}: expected ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : JSON.stringify(value)}`);
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (typeof value === 'object') wrong('a string');
      return;
    case 'number':
    case 'integer':
      if (!(typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))))) wrong(type.type === 'integer' ? 'an integer' : 'a number');
      else if (type.type === 'integer' && !Number.isInteger(Number(value))) wrong('an integer');
      return;
    case 'boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) wrong('true or false');
      return;
    case 'json':
      if (!(typeof value === 'object' || typeof value === 'string') || value === null) wrong('a JSON object');
      return;
    case 'null':
      return;
    case 'tag':
      if (!isObject(value)) return void wrong('a {Key, Value} tag');
      for (const key of Object.keys(value)) if (key !== 'Key' && key !== 'Value') ctx.problems.push(`${where}: unknown property '${key}' of a tag`);
      return;
    case 'array':
      if (!Array.isArray(value)) return void wrong('a list');
      value.forEach((item, i) => checkValue(ctx, item, type.element, `${where}[${i}]`));
      return;
    case 'map':
      if (!isObject(value)) return void wrong('a mapping');
      for (const [k, item] of Object.entries(value)) checkValue(ctx, item, type.element, `${where}.${k}`);
      return;
    case 'ref': {
      const definition = ctx.spec?.typeDefinition(type.reference.$ref);
      if (!definition) return void ctx.problems.push(`${where}: the specification lacks type ${type.reference.$ref}`);
      if (!isObject(value)) return void wrong(`a ${definition.name} mapping`);
      checkProperties(ctx, value, definition.properties, where);
      return;
    }
    case 'union': {
      const attempts = type.types.map((t) => problemsOf(ctx, value, t, where));
      if (attempts.some((a) => a.length === 0)) return;
      // The closest fit tells the most: among the types of the value's shape, the one with the fewest problems.
      const shape = (t: SpecType) => (Array.isArray(value) ? t.type === 'array' : isObject(value) ? ['ref', 'map', 'json', 'tag'].includes(t.type) : !['array', 'map', 'ref', 'tag'].includes(t.type));
      const candidates = attempts.filter((_, i) => shape(type.types[i]!));
      const best = (candidates.length > 0 ? candidates : attempts).reduce((a, b) => (b.length < a.length ? b : a));
      ctx.problems.push(...best);
      return;
    }
  }
}
