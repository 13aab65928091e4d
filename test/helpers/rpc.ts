import {expect} from 'chai'

import {RpcError} from '../../src/protocol/errors.js'

/** The RpcError a call fails with (a promise, or a function that throws or rejects); fails the test if it succeeds. */
export async function rejected(call: Promise<unknown> | (() => unknown)): Promise<RpcError> {
  try {
    await (typeof call === 'function' ? call() : call)
  } catch (error) {
    expect(error).to.be.instanceOf(RpcError)
    return error as RpcError
  }
  throw new Error('expected the call to fail')
}
