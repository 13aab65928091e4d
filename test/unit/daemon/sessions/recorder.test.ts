import {expect} from 'chai'

import {createLogger} from '../../../../src/shared/logger.js'
import {MAX_SNAPSHOT_CHARS, type RecordingRun, fileContentOfRead, recordLines} from '../../../../src/daemon/sessions/recorder.js'
import {SessionRepository, toWireEvent, toWireSession} from '../../../../src/daemon/sessions/repository.js'
import {type Store, openStore} from '../../../../src/daemon/store/index.js'

const log = createLogger('error', {kind: 'none'})
const line = (event: unknown): string => JSON.stringify(event)
const assistant = (block: unknown, parent: string | null = null) =>
  line({
    type: 'assistant',
    message: {role: 'assistant', content: [block], usage: {input_tokens: 11, output_tokens: 7}},
    parent_tool_use_id: parent,
    session_id: 'claude-1',
  })

describe('recordLines', () => {
  let store: Store
  let repo: SessionRepository
  let run: RecordingRun

  beforeEach(() => {
    store = openStore(':memory:')
    repo = new SessionRepository(store)
    const now = new Date()
    repo.insert({id: 's', runId: 'r', status: 'running', query: 'q', summary: 'q', workingDir: '/', createdAt: now, lastActivityAt: now})
    repo.insertEvent('s', undefined, 1, {event_type: 'message', role: 'user', content: 'q'}, now.getTime())
    run = {id: 's', runId: 'r', nextSequence: 2}
  })

  afterEach(() => store.close())

  it('stores every line raw, maps the conversation, and completes a tool call when its result arrives', () => {
    const published = recordLines(
      repo,
      run,
      [
        line({type: 'system', subtype: 'init', session_id: 'claude-1', model: 'claude-opus-4-8'}),
        assistant({type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {command: 'ls'}}),
        line({
          type: 'user',
          message: {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt'}]},
          parent_tool_use_id: null,
          session_id: 'claude-1',
        }),
        'not json',
        line({
          type: 'result',
          subtype: 'success',
          is_error: false,
          total_cost_usd: 0.5,
          num_turns: 2,
          duration_ms: 9,
          result: 'ok',
          session_id: 'claude-1',
        }),
      ],
      log,
    )
    expect(store.sqlite.prepare('SELECT COUNT(*) AS n FROM raw_events WHERE session_id = ?').get('s')).to.deep.equal({n: 5})
    const events = repo.events({session_id: 's'}).map(toWireEvent)
    // The injected query got the claude session id once claude said it.
    expect(events.map((e) => [e.sequence, e.event_type, e.claude_session_id])).to.deep.equal([
      [1, 'message', 'claude-1'],
      [2, 'tool_call', 'claude-1'],
      [3, 'tool_result', 'claude-1'],
    ])
    expect(events[1]).to.include({tool_id: 'toolu_1', tool_name: 'Bash', tool_input_json: '{"command":"ls"}', is_completed: true})
    expect(events[2]).to.include({tool_result_for_id: 'toolu_1', tool_result_content: 'a.txt', role: 'user'})
    const session = toWireSession(repo.get('s')!)
    expect(session).to.include({claude_session_id: 'claude-1', model_id: 'claude-opus-4-8', cost_usd: 0.5, num_turns: 2, input_tokens: 11})
    expect(session.result).to.include({type: 'result', result: 'ok', total_cost_usd: 0.5, num_turns: 2, session_id: 'claude-1'})
    expect(run).to.include({claudeSessionId: 'claude-1', nextSequence: 4})
    expect(published.map((e) => e.type === 'conversation_updated' && [e.data.event_type, e.data.content_type])).to.deep.equal([
      ['tool_call', 'tool_use'],
      ['tool_result', 'tool_result'],
    ])
    expect(published[0].data).to.deep.include({
      session_id: 's',
      run_id: 'r',
      claude_session_id: 'claude-1',
      tool_input: {command: 'ls'},
      parent_tool_use_id: null,
    })
  })

  it('caps the text it publishes but stores it whole, and keeps parent_tool_use_id', () => {
    const big = 'y'.repeat(100_000)
    const [event] = recordLines(repo, run, [assistant({type: 'text', text: big}, 'toolu_task')], log)
    const content = event.type === 'conversation_updated' ? (event.data.content ?? '') : ''
    expect(content.length).to.be.lessThan(70_000)
    expect(content).to.match(/more characters; getConversation has the full text\]$/)
    const stored = repo.events({session_id: 's'}).map(toWireEvent).at(-1)!
    expect(stored.content).to.equal(big)
    expect(stored.parent_tool_use_id).to.equal('toolu_task')
  })
})

describe('fileContentOfRead', () => {
  it('takes the line-number gutter (arrow or tab) and trailing system reminders off', () => {
    expect(fileContentOfRead('     1→alpha\n     2→  beta\n     3→')).to.equal('alpha\n  beta\n')
    expect(fileContentOfRead('     1\talpha\n    10\tbeta\n\n<system-reminder>\nmalware check\n</system-reminder>\n')).to.equal(
      'alpha\nbeta',
    )
  })

  it('keeps text that is not all numbered lines as it is, and caps what it keeps', () => {
    expect(fileContentOfRead('no gutter here\n     2→but here')).to.equal('no gutter here\n     2→but here')
    const huge = fileContentOfRead('x'.repeat(MAX_SNAPSHOT_CHARS + 10))
    expect(huge.length).to.be.lessThan(MAX_SNAPSHOT_CHARS + 100)
    expect(huge).to.match(/… \[10 more characters not kept\]$/)
  })
})
