/**
 * Loads a CommonJS bundle (the CLI's lean entry, dist/cli/lean.bundle.cjs, and the daemon,
 * dist/daemon/entry.bundle.cjs) as `require` would, but with V8's code cache: compiling a bundle's
 * functions costs a cold start more than most of what it then does, and Node 20 has no compile
 * cache of its own (module.enableCompileCache came in 22.1).
 *
 * The cache (`<bundle>.cache`) is written by the build (scripts/build-lean.js), from a run of the
 * bundle as it is used, so it holds the functions such a run compiles. It is used only for the
 * bundle it was made from: the bundle's first line names a hash of its contents and the cache
 * starts with the same line (V8 itself checks little more than the length of the source, and would
 * run stale code). V8 refuses a cache of another V8 version or made under other V8 flags; the
 * bundle then compiles as usual, which is only slower.
 *
 * Run as a program (`node bundle-loader.cjs <bundle>`), it loads that bundle: how the daemon is forked.
 */
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import vm from 'node:vm'

export interface LoadedBundle {
  exports: Record<string, unknown>
  /** Whether V8 took the cache (false also when there was none). */
  cacheUsed: boolean
  /** Writes the code cache of everything compiled so far beside the bundle (the build's training runs). */
  writeCache(): void
}

export function cacheFileOf(bundle: string): string {
  return `${bundle}.cache`
}

export function requireBundle(file: string): LoadedBundle {
  const source = readFileSync(file, 'utf8')
  const id = source.slice(0, source.indexOf('\n') + 1)
  const cachedData = cacheFor(file, id)
  // The wrapper CommonJS puts around a module, on the bundle's first line so that line numbers stay.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    cachedData,
    // No importModuleDynamically: a script made from a code cache loses it (Node 20), so a bundle
    // must not import() anything (the build checks), and fails alike with or without a cache if it does.
  })
  const module = {exports: {} as Record<string, unknown>}
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file))
  return {
    exports: module.exports,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    writeCache: () => {
      const cache = cacheFileOf(file)
      writeFileSync(cache, Buffer.concat([Buffer.from(id), script.createCachedData()]))
      // Readable like the rest of the package, whatever umask the run that wrote it had (the daemon's is 077).
      chmodSync(cache, 0o644)
    },
  }
}

/** The cache made from this very bundle (its first line, `id`, opens both), if there is one. */
function cacheFor(file: string, id: string): Buffer | undefined {
  let cache: Buffer
  try {
    cache = readFileSync(cacheFileOf(file))
  } catch {
    return undefined
  }
  if (!id.startsWith('// ') || cache.subarray(0, id.length).toString('latin1') !== id) return undefined
  return cache.subarray(id.length)
}

if (require.main === module) requireBundle(path.resolve(process.argv[2]))
