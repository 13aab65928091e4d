import {expect} from 'chai'

import {parseStreamLine, summarize} from '../../../../src/daemon/sessions/stream-parser.js'

const line = (event: unknown): string => JSON.stringify(event)

describe('stream-parser', () => {
  it('takes the claude session id and model from init, with no conversation event', () => {
    const parsed = parseStreamLine(line({type: 'system', subtype: 'init', session_id: 'sid-1', model: 'claude-opus-4-8[1m]', tools: []}))
    expect(parsed).to.deep.equal({claudeSessionId: 'sid-1', modelId: 'claude-opus-4-8[1m]', conversation: []})
  })

  it('maps assistant text, thinking and tool_use blocks, with top-level usage', () => {
    const usage = {input_tokens: 11, output_tokens: 7, cache_creation_input_tokens: 2, cache_read_input_tokens: 3}
    const assistant = (block: unknown) =>
      parseStreamLine(
        line({type: 'assistant', message: {role: 'assistant', content: [block], usage}, parent_tool_use_id: null, session_id: 's'}),
      )!
    expect(assistant({type: 'text', text: 'hi'}).conversation).to.deep.equal([{event_type: 'message', role: 'assistant', content: 'hi'}])
    expect(assistant({type: 'thinking', thinking: 'hmm'}).conversation).to.deep.equal([
      {event_type: 'thinking', role: 'assistant', content: 'hmm'},
    ])
    const tool = assistant({type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {command: 'ls'}})
    expect(tool.conversation).to.deep.equal([
      {event_type: 'tool_call', role: 'assistant', tool_id: 'toolu_1', tool_name: 'Bash', tool_input: {command: 'ls'}},
    ])
    expect(tool.usage).to.deep.equal(usage)
  })

  it('keeps parent_tool_use_id, and ignores a sub-agent usage', () => {
    const parsed = parseStreamLine(
      line({
        type: 'assistant',
        message: {role: 'assistant', content: [{type: 'text', text: 'sub'}], usage: {input_tokens: 5}},
        parent_tool_use_id: 'toolu_task',
      }),
    )!
    expect(parsed.conversation[0].parent_tool_use_id).to.equal('toolu_task')
    expect(parsed.usage).to.equal(undefined)
  })

  it('maps tool results with string or text-block content, and user text', () => {
    const user = (content: unknown) =>
      parseStreamLine(line({type: 'user', message: {role: 'user', content}, parent_tool_use_id: null}))!.conversation
    expect(user([{type: 'tool_result', tool_use_id: 'toolu_1', content: 'done', is_error: false}])).to.deep.equal([
      {event_type: 'tool_result', role: 'user', tool_result_for_id: 'toolu_1', tool_result_content: 'done'},
    ])
    expect(
      user([
        {
          type: 'tool_result',
          tool_use_id: 't',
          content: [
            {type: 'text', text: 'a'},
            {type: 'text', text: 'b'},
          ],
        },
      ])[0].tool_result_content,
    ).to.equal('a\nb')
    expect(user([{type: 'text', text: '[Request interrupted by user for tool use]'}])).to.deep.equal([
      {event_type: 'message', role: 'user', content: '[Request interrupted by user for tool use]'},
    ])
    expect(user('plain')).to.deep.equal([{event_type: 'message', role: 'user', content: 'plain'}])
  })

  it('reads a success result: cost, duration, turns, text', () => {
    const parsed = parseStreamLine(
      line({
        type: 'result',
        subtype: 'success',
        is_error: false,
        duration_ms: 120,
        num_turns: 2,
        result: 'Done.',
        session_id: 's',
        total_cost_usd: 0.01,
      }),
    )!
    expect(parsed.result).to.deep.equal({subtype: 'success', isError: false, costUsd: 0.01, durationMs: 120, numTurns: 2, result: 'Done.'})
  })

  it('reads an error result with its errors, and older cost keys', () => {
    const parsed = parseStreamLine(
      line({type: 'result', subtype: 'error_max_turns', is_error: true, errors: ['Reached maximum number of turns (1)'], cost_usd: 0.5}),
    )!
    expect(parsed.result).to.include({isError: true, error: 'Reached maximum number of turns (1)', costUsd: 0.5})
  })

  it('returns null for a line that is not a JSON object, and nothing for unknown types', () => {
    expect(parseStreamLine('not json')).to.equal(null)
    expect(parseStreamLine('[1,2]')).to.equal(null)
    expect(parseStreamLine(line({type: 'stream_event', event: {}}))).to.deep.equal({claudeSessionId: undefined, conversation: []})
  })

  it('summarises a query as hld does', () => {
    expect(summarize('  fix\n\tthe   bug ')).to.equal('fix the bug')
    expect(summarize('x'.repeat(60))).to.equal(`${'x'.repeat(50)}...`)
  })
})
