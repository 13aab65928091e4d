/**
 * Decodes a JSON value the way Go's encoding/json would into one of the Go hld's structs
 * described in test/fixtures/go-hld-types.json, and lists what would fail: a present key of the
 * wrong JSON type (which fails Go's whole decode), or a key Go always sends that is missing
 * (a client built from the structs reads its zero value and misbehaves).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {REPO_ROOT} from './sandbox.js'

interface Field {
  go: string
  omitempty?: boolean
}

const FIXTURE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'go-hld-types.json'), 'utf8')) as {
  types: Record<string, Record<string, Field>>
}

/** RFC 3339, as Go's time.Time UnmarshalJSON requires. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export function goTypeNames(): string[] {
  return Object.keys(FIXTURE.types)
}

export function goFields(typeName: string): Record<string, Field> {
  const fields = FIXTURE.types[typeName]
  if (!fields) throw new Error(`no Go type ${typeName} in the fixture`)
  return fields
}

export function goDecodeErrors(value: unknown, typeName: string, where = typeName): string[] {
  const fields = goFields(typeName)
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${where}: Go ${typeName} cannot take ${JSON.stringify(value)}`]
  const object = value as Record<string, unknown>
  const errors: string[] = []
  for (const [key, field] of Object.entries(fields)) {
    if (!(key in object)) {
      if (!field.omitempty) errors.push(`${where}.${key}: missing (Go always sends it)`)
      continue
    }
    errors.push(...fieldErrors(object[key], field.go, `${where}.${key}`))
  }
  return errors
}

function fieldErrors(value: unknown, goType: string, where: string): string[] {
  if (goType.startsWith('*')) return value === null ? [] : fieldErrors(value, goType.slice(1), where)
  const wrong = (): string[] => [`${where}: Go ${goType} cannot take ${JSON.stringify(value)}`]
  // null decodes into any Go value as "leave it"; only a wrong type fails.
  if (value === null) return []
  switch (goType) {
    case 'string': {
      return typeof value === 'string' ? [] : wrong()
    }
    case 'bool': {
      return typeof value === 'boolean' ? [] : wrong()
    }
    case 'int': {
      return typeof value === 'number' && Number.isInteger(value) ? [] : wrong()
    }
    case 'float64': {
      return typeof value === 'number' ? [] : wrong()
    }
    case 'time.Time': {
      return typeof value === 'string' && RFC3339.test(value) ? [] : wrong()
    }
    default: {
      if (FIXTURE.types[goType]) return goDecodeErrors(value, goType, where)
      return typeof value === 'object' && !Array.isArray(value) ? [] : wrong()
    }
  }
}
