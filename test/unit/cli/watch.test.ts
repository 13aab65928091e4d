import {expect} from 'chai'

import {gist} from '../../../src/cli/watch.js'
import type {DaemonEvent} from '../../../src/protocol/events.js'

function event(partial: Pick<DaemonEvent, 'type' | 'data'>): DaemonEvent {
  return {id: 1, timestamp: '2026-01-01T00:00:00.000Z', ...partial} as DaemonEvent
}

describe('watch gist', () => {
  it('says what happened, per event type', () => {
    const conversation = {session_id: 's', claude_session_id: 'c', content_type: 'text'} as const
    const cases: [Pick<DaemonEvent, 'type' | 'data'>, string][] = [
      [
        {type: 'new_approval', data: {approval_id: 'a1', session_id: 's', run_id: 'r', tool_name: 'Bash'}},
        'Bash is waiting for approval a1',
      ],
      [{type: 'approval_resolved', data: {approval_id: 'a1', session_id: 's', approved: true, response_text: ''}}, 'approved a1'],
      [{type: 'approval_resolved', data: {approval_id: 'a1', session_id: 's', approved: false, response_text: 'no'}}, 'denied a1: no'],
      // An expired approval says so, as the lists do, not "denied"; local ids are shown short, as in the lists.
      [
        {
          type: 'approval_resolved',
          data: {
            approval_id: 'local-0123abcd-ffff',
            session_id: 's',
            approved: false,
            response_text: 'Expired: the session ended.',
            status: 'expired',
          },
        },
        'expired 0123abcd: Expired: the session ended.',
      ],
      [
        {type: 'new_approval', data: {approval_id: 'local-0123abcd-ffff', session_id: 's', run_id: 'r', tool_name: 'Bash'}},
        'Bash is waiting for approval 0123abcd',
      ],
      [
        {type: 'session_status_changed', data: {session_id: 's', old_status: 'running', new_status: 'failed', error: 'boom'}},
        'running → failed (boom)',
      ],
      [{type: 'session_status_changed', data: {session_id: 's', title: 'Fix the build'} as never}, 'title: Fix the build'],
      [
        {type: 'conversation_updated', data: {...conversation, event_type: 'message', role: 'assistant', content: 'Hello'}},
        'assistant: Hello',
      ],
      [{type: 'conversation_updated', data: {...conversation, event_type: 'thinking', content: 'hmm'}}, 'thinking: hmm'],
      [
        {type: 'conversation_updated', data: {...conversation, event_type: 'tool_call', tool_name: 'Read', tool_input: {path: 'a'}}},
        'tool Read {"path":"a"}',
      ],
      [
        {
          type: 'conversation_updated',
          data: {...conversation, event_type: 'tool_result', tool_result_for_id: 't1', tool_result_content: 'ok'},
        },
        'result of t1: ok',
      ],
      [{type: 'conversation_updated', data: {...conversation, event_type: 'system', subtype: 'init'}}, 'system init'],
    ]
    for (const [input, expected] of cases) expect(gist(event(input))).to.equal(expected)
  })
})
