import {expect} from 'chai'

import {EncodedJson, LineDecoder, encodeFrame} from '../../../src/protocol/framing.js'

function decoder(maxFrameBytes = 1024): {lines: string[]; oversize: number[]; decoder: LineDecoder} {
  const lines: string[] = []
  const oversize: number[] = []
  return {lines, oversize, decoder: new LineDecoder({maxFrameBytes, onLine: (l) => lines.push(l), onOversize: (n) => oversize.push(n)})}
}

describe('LineDecoder', () => {
  it('joins a frame split across chunks', () => {
    const d = decoder()
    d.decoder.push(Buffer.from('{"a":'))
    d.decoder.push(Buffer.from('1}'))
    expect(d.lines).to.deep.equal([])
    d.decoder.push(Buffer.from('\n'))
    expect(d.lines).to.deep.equal(['{"a":1}'])
  })

  it('splits several frames in one chunk and keeps the tail', () => {
    const d = decoder()
    d.decoder.push(Buffer.from('one\ntwo\nthr'))
    expect(d.lines).to.deep.equal(['one', 'two'])
    d.decoder.push(Buffer.from('ee\n'))
    expect(d.lines).to.deep.equal(['one', 'two', 'three'])
  })

  it('does not corrupt a multi-byte character split between chunks', () => {
    const d = decoder()
    const bytes = Buffer.from('{"q":"héllo 🌍"}\n')
    const cut = bytes.indexOf(0xf0) + 2 // inside the emoji
    d.decoder.push(bytes.subarray(0, cut))
    d.decoder.push(bytes.subarray(cut))
    expect(JSON.parse(d.lines[0])).to.deep.equal({q: 'héllo 🌍'})
  })

  it('skips blank lines and strips a CR from CRLF peers', () => {
    const d = decoder()
    d.decoder.push(Buffer.from('\n\n  \n{"x":1}\r\n'))
    expect(d.lines).to.deep.equal(['{"x":1}'])
  })

  it('drops an oversized frame without buffering it, reports it once, and carries on', () => {
    const d = decoder(16)
    d.decoder.push(Buffer.from('x'.repeat(10)))
    d.decoder.push(Buffer.from('x'.repeat(10)))
    expect(d.decoder.buffered).to.equal(0) // over the limit: nothing held, the rest is skipped…
    d.decoder.push(Buffer.alloc(1000, 0x78))
    d.decoder.push(Buffer.from('xxx\n{"ok":true}\n'))
    expect(d.oversize).to.deep.equal([1023])
    expect(d.lines).to.deep.equal(['{"ok":true}'])
    expect(d.decoder.buffered).to.equal(0)
  })

  it('accepts a frame exactly at the limit', () => {
    const d = decoder(8)
    d.decoder.push(Buffer.from('12345678\n'))
    expect(d.lines).to.deep.equal(['12345678'])
    expect(d.oversize).to.deep.equal([])
  })

  it('passes garbage through as a line: judging it is the reader’s job', () => {
    const d = decoder()
    d.decoder.push(Buffer.from([0xff, 0xfe, 0x00, 0x0a]))
    expect(d.lines).to.have.length(1)
  })

  it('delivers a final frame without a newline on end()', () => {
    const d = decoder()
    d.decoder.push(Buffer.from('{"last":true}'))
    d.decoder.end()
    expect(d.lines).to.deep.equal(['{"last":true}'])
  })

  it('encodes one compact frame per message, newlines inside strings escaped', () => {
    const frame = encodeFrame({text: 'a\nb'})
    expect(frame).to.equal('{"text":"a\\nb"}\n')
    expect(frame.indexOf('\n')).to.equal(frame.length - 1)
  })
})

describe('EncodedJson', () => {
  const value = {approvals: [{id: 'a', input: {command: 'ls\n'}}, {id: 'b'}]}
  const encoded = new EncodedJson(JSON.stringify(value))

  it('is spliced into a response frame as is, and the frame reads back as the plain one', () => {
    const frame = encodeFrame({jsonrpc: '2.0', id: 7, result: encoded})
    expect(frame.endsWith('\n')).to.equal(true)
    expect(frame.slice(0, -1)).not.to.include('\n')
    expect(JSON.parse(frame)).to.deep.equal({jsonrpc: '2.0', id: 7, result: value})
    expect(JSON.parse(encodeFrame({result: encoded}))).to.deep.equal({result: value})
  })

  it('serialises to its value anywhere else (a batch reply)', () => {
    expect(JSON.parse(encodeFrame([{jsonrpc: '2.0', id: 1, result: encoded}]))).to.deep.equal([{jsonrpc: '2.0', id: 1, result: value}])
    expect(encoded.value()).to.deep.equal(value)
  })
})
