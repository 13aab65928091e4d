/**
 * A method is declared once, as a typed descriptor, and imported by the daemon (to register
 * its handler) and the client (to call it); `client.call(Health, {})` infers the result type.
 * Descriptors carry no runtime dependencies, so importing them is cheap for the CLI; the zod
 * schemas that validate params live beside them in `*.schema.ts`, loaded only by the daemon.
 */
export interface Method<P, R> {
  readonly name: string
  /** Phantom members: never set at run time, they only carry the types. */
  readonly params?: P
  readonly result?: R
}

export type ParamsOf<M> = M extends Method<infer P, unknown> ? P : never
export type ResultOf<M> = M extends Method<unknown, infer R> ? R : never

export function method<P, R>(name: string): Method<P, R> {
  return {name}
}
