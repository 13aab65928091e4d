import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

/** Found once: the package does not move while hld runs, and the walk is a stat per folder (three per launch). */
let root: string | undefined

/**
 * The folder holding hld's package.json (and drizzle/), found by walking up from this file,
 * because it runs from src/ (tsx), dist/ (built) and node_modules/hld/dist (installed).
 */
export function packageRoot(): string {
  return (root ??= findPackageRoot())
}

function findPackageRoot(): string {
  let dir = import.meta.dirname
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`Cannot find hld's package.json above ${import.meta.filename}`)
    dir = parent
  }
  return dir
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {version: string}
  return pkg.version
}
