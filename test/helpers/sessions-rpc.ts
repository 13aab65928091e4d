/**
 * The sessions methods approval tests need, declared by their hld names. They belong to the
 * sessions service (another branch); tests that use them run once both are merged.
 */
import {method} from '../../src/protocol/method.js'

export const LaunchSession = method<{query: string; working_dir?: string; title?: string}, {session_id: string; run_id: string}>('launchSession')
export const GetSessionState = method<{session_id: string}, {session: {id: string; run_id: string; status: string}}>('getSessionState')
