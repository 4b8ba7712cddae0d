/**
 * A custom host: what a remote script reaches through `Write-Host`, `Read-Host`, `Get-Credential`,
 * `$Host.UI.PromptForChoice` and `$Host.UI.RawUI` is answered by your code.
 *
 * Run: `npx tsx examples/custom-host.ts`
 */
import { PowerShell, ProcessConnection, RunspacePool, type PSHost } from 'psrp'

const host: PSHost = {
  name: 'ExampleHost',
  ui: {
    writeLine: (text) => console.log(`[host] ${text}`),
    write: (text) => {
      process.stdout.write(`[host] ${text}`)
    },
    readLine: () => 'Ada', // Read-Host
    promptForCredential: (_caption, _message, userName) => ({
      userName: userName === '' ? 'ada' : userName,
      password: 'not-a-real-secret',
    }),
    promptForChoice: (_caption, _message, choices) => choices.length - 1, // always the last choice
    rawUI: { windowTitle: 'example', bufferSize: { width: 100, height: 500 } },
  },
}

const pool = await RunspacePool.open(new ProcessConnection(), { host })
try {
  const out = await new PowerShell(pool)
    .addScript(
      `Write-Host 'hello from the server'
       $name = Read-Host 'Your name'
       $cred = Get-Credential -UserName ops -Message 'a login'
       $choice = $Host.UI.PromptForChoice('Pick', 'one', @('&Yes', '&No'), 0)
       "name=$name user=$($cred.UserName) choice=$choice width=$($Host.UI.RawUI.BufferSize.Width) title=$($Host.UI.RawUI.WindowTitle)"`,
    )
    .invoke()
  console.log(out[0])
} finally {
  await pool.close()
}
