# One-off generator for the simple property-bag PSRP message codecs (src/psrp/messages/*.ts).
# Kept in the repo so the files can be regenerated consistently; the output is reviewed code.
import os
OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'psrp', 'messages')

# (file, TYPE, section, summary, [(tsName, clixmlName, kind, required, doc)])
SPECS = [
 ('session-capability', 'SESSION_CAPABILITY', '2.2.2.1', 'Announces protocol, PowerShell and serialization versions; first message each way.',
  [('protocolVersion','protocolversion','version',True,'PSRP protocol version, e.g. `2.3`.'),
   ('psVersion','PSVersion','version',True,'PowerShell version (always `2.0` on the wire).'),
   ('serializationVersion','SerializationVersion','version',True,'Serialization version (`1.1.0.1`).'),
   ('timeZone','TimeZone','bytes',False,'Optional serialized client time zone.')]),
 ('init-runspace-pool', 'INIT_RUNSPACEPOOL', '2.2.2.2', 'Client asks the server to open a runspace pool.',
  [('minRunspaces','MinRunspaces','number',True,'Minimum runspaces.'),
   ('maxRunspaces','MaxRunspaces','number',True,'Maximum runspaces.'),
   ('threadOptions','PSThreadOptions','enum:PSThreadOptions',True,'PSThreadOptions value (2.2.3.6).'),
   ('apartmentState','ApartmentState','enum:ApartmentState',True,'ApartmentState value (2.2.3.7).'),
   ('hostInfo','HostInfo','any',True,'HostInfo object (2.2.3.14).'),
   ('applicationArguments','ApplicationArguments','any',True,'PSPrimitiveDictionary of application arguments, or null.')]),
 ('public-key', 'PUBLIC_KEY', '2.2.2.3', "Client's RSA public key (base64 CAPI PUBLICKEYBLOB) for the session key exchange.",
  [('publicKey','PublicKey','string',True,'Base64 of the PUBLICKEYBLOB.')]),
 ('encrypted-session-key', 'ENCRYPTED_SESSION_KEY', '2.2.2.4', 'Server sends the AES session key encrypted with the client public key.',
  [('encryptedSessionKey','EncryptedSessionKey','string',True,'Base64 of the SIMPLEBLOB.')]),
 ('set-max-runspaces', 'SET_MAX_RUNSPACES', '2.2.2.6', 'Client changes the maximum number of runspaces.',
  [('maxRunspaces','MaxRunspaces','number',True,'New maximum.'),('callId','ci','bigint',True,'Call id matched by RUNSPACE_AVAILABILITY.')]),
 ('set-min-runspaces', 'SET_MIN_RUNSPACES', '2.2.2.7', 'Client changes the minimum number of runspaces.',
  [('minRunspaces','MinRunspaces','number',True,'New minimum.'),('callId','ci','bigint',True,'Call id matched by RUNSPACE_AVAILABILITY.')]),
 ('runspace-availability', 'RUNSPACE_AVAILABILITY', '2.2.2.8', 'Server answers SET_MAX/MIN_RUNSPACES (boolean) or GET_AVAILABLE_RUNSPACES (count).',
  [('response','SetMinMaxRunspacesResponse','any',True,'Boolean success, or the number of available runspaces (Int64).'),
   ('callId','ci','bigint',True,'Call id of the request.')]),
 ('runspace-pool-state', 'RUNSPACEPOOL_STATE', '2.2.2.9', 'Server reports a runspace pool state change.',
  [('state','RunspaceState','number',True,'RunspacePoolState value (2.2.3.4).'),
   ('error','ExceptionAsErrorRecord','any',False,'ErrorRecord explaining a Broken state.')]),
 ('get-available-runspaces', 'GET_AVAILABLE_RUNSPACES', '2.2.2.11', 'Client asks how many runspaces are free.',
  [('callId','ci','bigint',True,'Call id matched by RUNSPACE_AVAILABILITY.')]),
 ('user-event', 'USER_EVENT', '2.2.2.12', 'Server forwards a PowerShell engine event (New-Event / Register-*Event -Forward).',
  [('eventIdentifier','PSEventArgs.EventIdentifier','number',True,'Event id.'),
   ('sourceIdentifier','PSEventArgs.SourceIdentifier','string',True,'Source identifier.'),
   ('timeGenerated','PSEventArgs.TimeGenerated','any',True,'When it happened (PSDateTime).'),
   ('sender','PSEventArgs.Sender','any',False,'Sender object.'),
   ('sourceArgs','PSEventArgs.SourceArgs','any',False,'Source arguments.'),
   ('messageData','PSEventArgs.MessageData','any',False,'Message data.'),
   ('computerName','PSEventArgs.ComputerName','any',False,'Computer name.'),
   ('runspaceId','PSEventArgs.RunspaceId','any',False,'Runspace id (PSGuid).')]),
 ('application-private-data', 'APPLICATION_PRIVATE_DATA', '2.2.2.13', "Server sends its application private data (includes PSVersionTable).",
  [('applicationPrivateData','ApplicationPrivateData','any',True,'PSPrimitiveDictionary (a Map), e.g. with key PSVersionTable.')]),
 ('runspace-pool-init-data', 'RUNSPACEPOOL_INIT_DATA', '2.2.2.30', 'Server answers CONNECT_RUNSPACEPOOL with the pool limits.',
  [('minRunspaces','MinRunspaces','number',True,'Minimum runspaces.'),('maxRunspaces','MaxRunspaces','number',True,'Maximum runspaces.')]),
 ('reset-runspace-state', 'RESET_RUNSPACE_STATE', '2.2.2.31', 'Client resets the runspace state (protocol 2.3+).',
  [('callId','ci','bigint',True,'Call id matched by RUNSPACE_AVAILABILITY.')]),
 ('pipeline-state', 'PIPELINE_STATE', '2.2.2.21', 'Server reports a pipeline state change.',
  [('state','PipelineState','number',True,'PSInvocationState value (2.2.3.5).'),
   ('error','ExceptionAsErrorRecord','any',False,'ErrorRecord of a Failed or Stopped pipeline.')]),
]

def pascal(name):
    return ''.join(p.capitalize() for p in name.split('-'))

for (fname, TYPE, section, summary, fields) in SPECS:
    P = pascal(fname)
    enums = sorted({k.split(':')[1] for (_,_,k,_,_) in fields if k.startswith('enum:')})
    needs_version = any(k=='version' for (_,_,k,_,_) in fields)
    clixml_imports = ['type PSObject']
    if needs_version: clixml_imports.append('PSVersion')
    clixml_imports += enums
    if enums: clixml_imports.append('type PSEnum')
    helpers = {'bodyObject','msObject'}
    lines = []
    lines.append('/**')
    lines.append(f' * {TYPE} (MS-PSRP {section}): {summary}')
    lines.append(' *')
    lines.append(' * @module')
    lines.append(' */')
    iface = [f'/** Fields of {TYPE}. */', f'export interface {P}Message {{']
    for (ts, cx, kind, req, doc) in fields:
        t = {'version':'string','number':'number','bigint':'bigint','string':'string','bytes':'Uint8Array','any':'unknown'}.get(kind, 'number | PSEnum')
        iface.append(f'  /** {doc} */')
        iface.append(f'  {ts}{"" if req else "?"}: {t}{"" if req or kind=="any" else " | undefined"}')
    iface.append('}')
    enc = [f'/** Encodes the {TYPE} body. */', f'export function encode{P}(m: {P}Message): PSObject {{', '  const props: [string, unknown][] = []']
    for (ts, cx, kind, req, doc) in fields:
        if kind == 'version': v = f'new PSVersion(m.{ts})'
        elif kind.startswith('enum:'): v = f'typeof m.{ts} === "number" ? {kind.split(":")[1]}.of(m.{ts}) : m.{ts}'
        else: v = f'm.{ts}'
        if req:
            enc.append(f"  props.push(['{cx}', {v}])")
        else:
            enc.append(f"  if (m.{ts} !== undefined) props.push(['{cx}', {v}])")
    enc.append('  return msObject(props)')
    enc.append('}')
    dec = [f'/** Decodes the {TYPE} body. */', f'export function decode{P}(value: unknown): {P}Message {{', f"  const o = bodyObject('{TYPE}', value)"]
    ret = []
    for (ts, cx, kind, req, doc) in fields:
        if req:
            if kind in ('number',) or kind.startswith('enum:'):
                helpers.add('requiredNumber'); ret.append(f"    {ts}: requiredNumber('{TYPE}', o, '{cx}'),")
            elif kind == 'bigint':
                helpers.add('requiredBigint'); ret.append(f"    {ts}: requiredBigint('{TYPE}', o, '{cx}'),")
            elif kind == 'string':
                helpers.add('requiredString'); ret.append(f"    {ts}: requiredString('{TYPE}', o, '{cx}'),")
            elif kind == 'version':
                helpers.add('required'); ret.append(f"    {ts}: String(required('{TYPE}', o, '{cx}')),")
            else:
                helpers.add('required'); ret.append(f"    {ts}: required('{TYPE}', o, '{cx}'),")
        else:
            helpers.add('optional')
            if kind == 'bytes':
                dec.append(f"  const {ts} = optional(o, '{cx}')")
                ret.append(f"    ...({ts} instanceof Uint8Array ? {{ {ts} }} : {{}}),")
            else:
                dec.append(f"  const {ts} = optional(o, '{cx}')")
                ret.append(f"    ...({ts} === undefined ? {{}} : {{ {ts} }}),")
    dec.append('  return {')
    dec += ret
    dec.append('  }')
    dec.append('}')
    lines.append(f"import {{ {', '.join(clixml_imports)} }} from '../../clixml/index.ts'")
    lines.append(f"import {{ {', '.join(sorted(helpers))} }} from './body.ts'")
    lines.append('')
    lines += iface + [''] + enc + [''] + dec
    open(os.path.join(OUT, fname + '.ts'), 'w').write('\n'.join(lines) + '\n')
    print(fname)
