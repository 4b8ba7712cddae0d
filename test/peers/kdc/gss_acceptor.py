#!/usr/bin/python3
"""GSSAPI acceptor for the psrp Kerberos tests (Debian python3 + python3-gssapi, MIT krb5).

usage: gss_acceptor.py [--spnego] [--cbt HEX]   (keytab from KRB5_KTNAME, krb5.conf from KRB5_CONFIG)

One JSON request per stdin line, one JSON reply per stdout line; bytes are base64.
  {"op":"accept","token":..}             -> {"token":..|null,"complete":bool,"initiator":str,
                                             "delegated":bool,"channel_bound":bool,"mech":str}
  {"op":"unwrap_winrm","header":..,"data":..} -> {"plaintext":..}  (gss_unwrap_iov; "api":"unwrap" for gss_unwrap(header||data))
  {"op":"wrap_winrm","plaintext":..}     -> {"header":..,"data":..}       (gss_wrap_iov header/data/padding)
  {"op":"wrap","plaintext":..}           -> {"token":..}                  (gss_wrap)
  {"op":"unwrap","token":..}             -> {"plaintext":..,"encrypted":bool}
  {"op":"get_mic","message":..}          -> {"token":..}
  {"op":"verify_mic","message":..,"token":..} -> {"ok":true}
Errors: {"error":"text"}. Written for this project.
"""
import base64
import json
import sys

import gssapi
import gssapi.raw as gr
from gssapi.raw.ext_dce import IOV, IOVBufferType, unwrap_iov, wrap_iov

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
CHANNEL_BOUND_FLAG = 0x800


def b(s):
    return base64.b64decode(s) if s else b""


def e(v):
    return base64.b64encode(v).decode() if v is not None else None


def main():
    args = sys.argv[1:]
    cbt = None
    if "--cbt" in args:
        cbt = bytes.fromhex(args[args.index("--cbt") + 1])
    mech = SPNEGO if "--spnego" in args else gssapi.MechType.kerberos
    creds = gssapi.Credentials(usage="accept", mechs=[mech])
    cb = gr.ChannelBindings(application_data=cbt) if cbt is not None else None
    ctx = gssapi.SecurityContext(creds=creds, usage="accept", channel_bindings=cb)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "accept":
                out = ctx.step(b(req["token"]))
                rep = {"token": e(out), "complete": ctx.complete}
                if ctx.complete:
                    flags = int(ctx.actual_flags)
                    rep.update(
                        initiator=str(ctx.initiator_name),
                        delegated=ctx.delegated_creds is not None,
                        channel_bound=bool(flags & CHANNEL_BOUND_FLAG),
                        mutual=bool(flags & 2),
                        mech=str(ctx.mech.dotted_form),
                    )
            elif op == "unwrap_winrm":
                header, data = b(req["header"]), b(req["data"])
                if req.get("api") == "unwrap":
                    plain = ctx.unwrap(header + data).message
                else:
                    iov = IOV((IOVBufferType.header, False, header), data, IOVBufferType.data, std_layout=False)
                    unwrap_iov(ctx, iov)
                    plain = iov[1].value
                rep = {"plaintext": e(plain)}
            elif op == "wrap_winrm":
                iov = IOV(IOVBufferType.header, b(req["plaintext"]), IOVBufferType.padding, std_layout=False)
                wrap_iov(ctx, iov, confidential=True)
                rep = {"header": e(iov[0].value), "data": e(iov[1].value + (iov[2].value or b""))}
            elif op == "wrap":
                rep = {"token": e(ctx.wrap(b(req["plaintext"]), True).message)}
            elif op == "unwrap":
                r = ctx.unwrap(b(req["token"]))
                rep = {"plaintext": e(r.message), "encrypted": bool(r.encrypted)}
            elif op == "get_mic":
                rep = {"token": e(ctx.get_signature(b(req["message"])))}
            elif op == "verify_mic":
                ctx.verify_signature(b(req["message"]), b(req["token"]))
                rep = {"ok": True}
            else:
                rep = {"error": "unknown op " + op}
        except Exception as ex:  # reported to the test, which decides
            rep = {"error": "%s: %s" % (type(ex).__name__, ex)}
        print(json.dumps(rep), flush=True)


if __name__ == "__main__":
    main()
