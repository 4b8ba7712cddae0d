#!/usr/bin/python3
"""WinRM authentication front for the project's tests (127.0.0.1 only).

An HTTP or HTTPS server that plays the authentication and message-encryption part of Windows WinRM
in front of a WS-Man server without authentication (the project's WinRM bridge, which hosts PSRP
shells in real pwsh):

* authenticates every client TCP connection with GSSAPI, using the NTLM mechanism of gss-ntlmssp
  (users from the NTLM_USER_FILE given with --user-file, lines DOMAIN:USER:PASSWORD); the HTTP
  schemes `Negotiate` and `NTLM` are offered and accepted (raw NTLMSSP tokens, or SPNEGO);
* over HTTP requires MS-WSMV message encryption (multipart/encrypted with
  application/HTTP-SPNEGO-session-encrypted) and answers clear-text SOAP with 401, as WinRM does
  for NTLM with AllowUnencrypted=false (unless --allow-unencrypted);
* over HTTPS passes the tls-server-end-point channel bindings (RFC 5929) to the acceptor, and with
  --require-cbt refuses a client whose token carries none;
* with --credssp-cert/--credssp-key also offers `CredSSP` (MS-CSSP, credssp_acceptor.py): a TLS server
  per connection (--credssp-tls-max 1.2|1.3), the CredSSP version given by --credssp-version (2-6),
  inner SPNEGO/NTLM through gss-ntlmssp, delegated credentials checked against the user file, then
  application/HTTP-CredSSP-session-encrypted bodies (16 KiB parts, multipart/x-multi-encrypted) in
  both directions;
* when KRB5_KTNAME names a service keytab (and KRB5_CONFIG its realm), also accepts Kerberos: the
  `Negotiate` scheme with SPNEGO tokens of either mechanism (or raw krb5 / NTLMSSP tokens), and the
  `Kerberos` scheme with raw RFC 4121 krb5 tokens; the final mutual-authentication token goes in the
  200's WWW-Authenticate; Kerberos message encryption is the gss_wrap_iov layout of MS-WSMV 2.2.9.1
  (application/HTTP-Kerberos-session-encrypted under `Kerberos`, HTTP-SPNEGO-session-encrypted under
  `Negotiate`); over HTTPS the acceptor gets the channel bindings like NTLM's;
* forwards each decrypted SOAP body to --upstream (plain HTTP, no authentication, one keep-alive
  upstream connection per client connection, so long-poll Receives on separate client sockets stay
  separate) and returns the reply, encrypted when the request was. A client that hangs up while its
  request is pending closes the upstream connection too.

Counters are served without authentication at GET /_psrp/status (JSON) and printed to stderr on exit.
The chosen port is printed on stdout as `LISTENING <port>`. The process exits when stdin closes or
on SIGTERM.

Needs Debian's python3 with python3-gssapi and gss-ntlmssp (no other third-party module).
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import urllib.parse

import gssapi
import gssapi.raw as gr
from gssapi.raw.ext_dce import IOV, IOVBufferType, unwrap_iov, wrap_iov

import credssp_acceptor as credssp

NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
KRB5_OID = gssapi.MechType.kerberos  # 1.2.840.113554.1.2.2
# Kerberos is offered when a service keytab is configured (startNtlmPeer's krb5 option)
KERBEROS_ENABLED = bool(os.environ.get("KRB5_KTNAME"))
KERBEROS_ENCRYPTED = "application/HTTP-Kerberos-session-encrypted"
GSS_C_CHANNEL_BOUND_FLAG = 0x800
SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
CREDSSP_ENCRYPTED = "application/HTTP-CredSSP-session-encrypted"
CREDSSP_CHUNK = 16384
BOUNDARY = b"Encrypted Boundary"
SOAP_TYPE = "application/soap+xml;charset=UTF-8"
STATUS_PATH = "/_psrp/status"
ARGS = None


def log(*a):
    print("[ntlm-proxy]", *a, file=sys.stderr, flush=True)


def debug(*a):
    if ARGS is not None and ARGS.verbose:
        log(*a)


class Stats:
    """Thread-safe counters, exposed as JSON."""

    def __init__(self):
        self._lock = threading.Lock()
        self._v = {
            "connections": 0,
            "authenticated": 0,
            "authFailures": 0,
            "channelBound": 0,
            "cbtRefused": 0,
            "encryptedRequests": 0,
            "encryptedBytes": 0,
            "largestEncryptedRequest": 0,
            "encryptedReplies": 0,
            "plaintextRequests": 0,
            "plaintextRefused": 0,
            "decryptFailures": 0,
            "handshakePosts": 0,
            "forwarded": 0,
            "upstreamErrors": 0,
            "clientHangups": 0,
            "users": [],
            "credsspAuthenticated": 0,
            "credsspFailures": 0,
            "credsspVersion": 0,
            "credsspClientVersion": 0,
            "tlsVersion": "",
            "tlsCipher": "",
            "credsspUsers": [],
            "multipartRequests": 0,
            "multipartReplies": 0,
            "maxRequestParts": 0,
            "maxReplyParts": 0,
            "largestEncryptedReply": 0,
            "kerberosAuthenticated": 0,
            "ntlmAuthenticated": 0,
            "delegated": 0,
            "authMechs": [],
            "encryptionProtocols": [],
        }

    def add(self, key, n=1):
        with self._lock:
            self._v[key] += n

    def max(self, key, n):
        with self._lock:
            self._v[key] = max(self._v[key], n)

    def user(self, name, key="users"):
        with self._lock:
            if name not in self._v[key]:
                self._v[key].append(name)

    def set(self, key, value):
        with self._lock:
            self._v[key] = value

    def snapshot(self):
        with self._lock:
            return json.loads(json.dumps(self._v))


STATS = Stats()


# ---------------------------------------------------------------- channel bindings (RFC 5929 4.1)
def _tlv(der, off):
    tag = der[off]
    ln = der[off + 1]
    off += 2
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(der[off:off + n], "big")
        off += n
    return tag, off, off + ln


_SHA384 = {"2a864886f70d01010c", "2a8648ce3d040303"}
_SHA512 = {"2a864886f70d01010d", "2a8648ce3d040304"}


def tls_server_end_point(cert_der):
    """`tls-server-end-point:` ‖ H(cert): the signature's hash, SHA-256 for MD5/SHA-1 (or unknown)."""
    _, cert_start, _ = _tlv(cert_der, 0)
    _, _, tbs_end = _tlv(cert_der, cert_start)
    _, alg_start, _ = _tlv(cert_der, tbs_end)
    tag, oid_start, oid_end = _tlv(cert_der, alg_start)
    oid = cert_der[oid_start:oid_end].hex() if tag == 0x06 else ""
    h = hashlib.sha384 if oid in _SHA384 else hashlib.sha512 if oid in _SHA512 else hashlib.sha256
    return b"tls-server-end-point:" + h(cert_der).digest()


# ---------------------------------------------------------------- MS-WSMV 2.2.9.1 framing
def ntlm_seal(ctx):
    def seal(message):
        sealed = ctx.wrap(message, True).message  # NTLM: 16-byte signature ‖ sealed data
        return sealed[:16], sealed[16:]
    return seal


def ntlm_unseal(ctx):
    def unseal(header, data):
        if len(header) != 16:
            raise ValueError("NTLM signature length %d != 16" % len(header))
        return ctx.unwrap(header + data).message
    return unseal


def krb5_seal(ctx):
    """gss_wrap_iov([HEADER, DATA, PADDING], conf): the header part, then data ‖ padding (AES: none)."""
    def seal(message):
        iov = IOV(IOVBufferType.header, message, IOVBufferType.padding, std_layout=False)
        wrap_iov(ctx, iov, confidential=True)
        return iov[0].value, iov[1].value + (iov[2].value or b"")
    return seal


def krb5_unseal(ctx):
    def unseal(header, data):
        iov = IOV((IOVBufferType.header, False, header), data, IOVBufferType.data, std_layout=False)
        unwrap_iov(ctx, iov)
        return iov[1].value
    return unseal


def mech_name(ctx):
    """`Kerberos` or `NTLM`: the mechanism a (SPNEGO) context settled on."""
    try:
        return "Kerberos" if ctx.mech == KRB5_OID else "NTLM" if ctx.mech == NTLM_OID else str(ctx.mech)
    except Exception:
        return "unknown"


def build_encrypted(seal, message, protocol=SPNEGO_ENCRYPTED):
    """Returns (content type, body, parts); CredSSP bodies go in 16 KiB parts (x-multi-encrypted)."""
    chunks = [message]
    multi = protocol == CREDSSP_ENCRYPTED and len(message) > CREDSSP_CHUNK
    if multi:
        chunks = [message[i:i + CREDSSP_CHUNK] for i in range(0, len(message), CREDSSP_CHUNK)]
    body = b""
    for chunk in chunks:
        header, data = seal(chunk)
        body += (b"--" + BOUNDARY + b"\r\n\tContent-Type: " + protocol.encode() + b"\r\n"
                 b"\tOriginalContent: type=" + SOAP_TYPE.encode() + b";Length=" + str(len(chunk)).encode()
                 + b"\r\n--" + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
                 + struct.pack("<I", len(header)) + header + data)
    body += b"--" + BOUNDARY + b"--\r\n"
    ctype = 'multipart/%s;protocol="%s";boundary="%s"' % (
        "x-multi-encrypted" if multi else "encrypted", protocol, BOUNDARY.decode())
    return ctype, body, len(chunks)


def parse_encrypted(unseal, body, boundary, protocol=SPNEGO_ENCRYPTED):
    """Decrypts every (header part, payload part) pair; returns (plaintext, original type, parts)."""
    b = re.escape(boundary.encode())
    body = re.sub(rb"--\s*" + b + rb"--\r\n$", b"", body)
    parts = [p for p in re.split(rb"--\s*" + b + rb"\r\n", body) if p]
    if not parts or len(parts) % 2:
        raise ValueError("expected pairs of MIME parts, got %d parts" % len(parts))
    out, otype = b"", SOAP_TYPE
    for i in range(0, len(parts), 2):
        head = parts[i]
        m = re.search(rb"OriginalContent:\s*type=([^\r\n]*?);Length=(\d+)", head)
        if m is None:
            raise ValueError("no OriginalContent Length in the header part")
        otype, exp_len = m.group(1).decode(), int(m.group(2))
        if protocol.encode() not in head:
            raise ValueError("unsupported protocol in %r" % head[:120])
        payload = parts[i + 1]
        prefix = b"\tContent-Type: application/octet-stream\r\n"
        if not payload.startswith(prefix):
            raise ValueError("payload part without application/octet-stream")
        payload = payload[len(prefix):]
        hlen = struct.unpack("<I", payload[:4])[0]
        if 4 + hlen > len(payload):
            raise ValueError("header length %d overruns the part" % hlen)
        plain = unseal(payload[4:4 + hlen], payload[4 + hlen:])
        if len(plain) != exp_len:
            raise ValueError("length mismatch %d != %d" % (len(plain), exp_len))
        out += plain
    return out, otype, len(parts) // 2


class ClientGone(Exception):
    pass


# ---------------------------------------------------------------- HTTP handler (one per TCP connection)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    disable_nagle_algorithm = True  # replies go out in one write anyway; no delayed-ACK stalls

    def setup(self):
        super().setup()
        self.ctx = None
        self.credssp = None  # the CredSSPAcceptor when the connection uses CredSSP
        self.user = None
        self.scheme = None  # "Negotiate", "NTLM" or "Kerberos" of the established context
        self.mech = None  # "Kerberos" or "NTLM"
        self.upstream = None
        self.tls = isinstance(self.connection, ssl.SSLSocket)
        STATS.add("connections")

    def finish(self):
        try:
            super().finish()
        finally:
            self._drop_upstream()

    def log_message(self, fmt, *a):
        debug("%s %s" % (self.address_string(), fmt % a))

    def _send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        # headers and body in one write (end_headers() would write the headers alone)
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(head + body)
        self.wfile.flush()

    def _challenge(self, token=None, scheme=None):
        if token is None:
            hs = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
            if KERBEROS_ENABLED:
                hs.insert(1, ("WWW-Authenticate", "Kerberos"))
            if self.server.credssp_tls is not None:
                hs.append(("WWW-Authenticate", "CredSSP"))
        else:
            hs = [("WWW-Authenticate", "%s %s" % (scheme, base64.b64encode(token).decode()))]
        self._send(401, b"", hs)

    def do_GET(self):
        if self.path.split("?")[0] == STATUS_PATH:
            body = json.dumps(STATS.snapshot()).encode()
            return self._send(200, body, [("Content-Type", "application/json")])
        self._send(404)

    def _authenticate(self, auth):
        """Runs one handshake leg; returns True when the request may proceed (a response was sent otherwise)."""
        scheme, _, b64 = auth.strip().partition(" ")
        s = scheme.lower()
        credssp_ok = s == "credssp" and self.server.credssp_tls is not None
        kerberos_ok = s == "kerberos" and KERBEROS_ENABLED
        if (s not in ("negotiate", "ntlm") and not credssp_ok and not kerberos_ok) or not b64.strip():
            self._challenge()
            return False
        name = "NTLM" if s == "ntlm" else "Kerberos" if s == "kerberos" else "Negotiate"
        try:
            token = base64.b64decode(b64.strip(), validate=True)
        except ValueError:
            self._send(400, b"malformed authorization token")
            return False
        if credssp_ok:
            return self._credssp_step(token)
        self.credssp = None
        if self.ctx is None or self.ctx.complete:
            # a new handshake (first, or re-authentication on this connection)
            self.user = None
            self.scheme = name
            self.mech = None
            mechs = [NTLM_OID] if token.startswith(b"NTLMSSP\x00") else None
            if name == "Kerberos":
                mechs = [KRB5_OID]  # raw RFC 4121 tokens only (SPNEGO would be refused)
            elif name == "NTLM" and mechs is None:
                mechs = [NTLM_OID]
            creds = gssapi.Credentials(usage="accept", mechs=mechs) if mechs else None
            cbt = gr.ChannelBindings(application_data=self.server.cbt) if self.tls else None
            self.ctx = gssapi.SecurityContext(usage="accept", creds=creds, channel_bindings=cbt)
        try:
            out = self.ctx.step(token)
            # python-gssapi returns the output token of a failed step (SPNEGO's reject NegTokenResp) and
            # raises the error at the next use of the context: ask for completeness inside the try
            complete = self.ctx.complete
        except Exception as e:  # wrong password, wrong channel bindings, malformed token
            STATS.add("authFailures")
            log("authentication failed:", type(e).__name__, str(e).replace("\n", " ")[:200])
            self.ctx = None
            self._challenge()
            return False
        if not complete:
            self._challenge(out or b"", name)
            return False
        bound = bool(int(self.ctx.actual_flags) & GSS_C_CHANNEL_BOUND_FLAG)
        if bound:
            STATS.add("channelBound")
        if self.tls and ARGS.require_cbt and not bound:
            STATS.add("cbtRefused")
            STATS.add("authFailures")
            log("authentication refused: channel bindings required but the client sent none")
            self.ctx = None
            self._challenge()
            return False
        self.user = str(self.ctx.initiator_name).rstrip("\x00")
        self.mech = mech_name(self.ctx)
        STATS.add("authenticated")
        STATS.user(self.user)
        if self.mech == "Kerberos":
            STATS.add("kerberosAuthenticated")
            if self.ctx.delegated_creds is not None:
                STATS.add("delegated")  # a forwarded TGT (RFC 4121 4.1.1 Deleg) arrived
        elif self.mech == "NTLM":
            STATS.add("ntlmAuthenticated")
        STATS.user("%s/%s" % (name, self.mech), "authMechs")
        debug("authenticated", self.user, "scheme", name, "mech", self.mech, "channel bound", bound)
        self.final = (name, out) if out else None
        return True

    def _credssp_step(self, token):
        """One CredSSP leg (MS-CSSP over HTTP): 401 + CredSSP token until the credentials are delegated."""
        if self.credssp is None or self.credssp.complete:
            self.user = None
            self.ctx = None
            self.credssp = credssp.CredSSPAcceptor(
                self.server.credssp_tls, self.server.credssp_pubkey, ARGS.credssp_version,
                check_password, log=debug)
        acc = self.credssp
        try:
            out = acc.step(token)
        except credssp.CredSSPError as e:
            STATS.add("authFailures")
            STATS.add("credsspFailures")
            log("CredSSP authentication failed (0x%08X): %s" % (e.status, e))
            self.credssp = None
            if e.reply:
                self._challenge(e.reply, "CredSSP")
            else:
                self._challenge()
            return False
        except Exception as e:  # a bug or malformed input: refuse, keep serving
            STATS.add("authFailures")
            STATS.add("credsspFailures")
            log("CredSSP failure:", type(e).__name__, str(e)[:200])
            self.credssp = None
            self._challenge()
            return False
        if not acc.complete:
            self._challenge(out or b"", "CredSSP")
            return False
        self.user = acc.user
        STATS.add("authenticated")
        STATS.add("credsspAuthenticated")
        STATS.set("credsspVersion", acc.negotiated)
        STATS.set("credsspClientVersion", acc.client_version)
        STATS.set("tlsVersion", acc.tls_version)
        STATS.set("tlsCipher", acc.cipher)
        STATS.user(acc.user, "credsspUsers")
        STATS.set("credsspInnerMech", acc.inner_mech)  # Kerberos | NTLM
        STATS.set("credsspInnerSpnego", acc.inner_spnego)
        debug("CredSSP authenticated", acc.user, acc.tls_version, acc.cipher, "v%d" % acc.negotiated)
        self.final = None
        return True

    def do_POST(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self._send(411)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        auth = self.headers.get("Authorization")
        self.final = None
        if auth:
            if not self._authenticate(auth):
                return
        elif self.user is None:
            return self._challenge()
        extra = []
        if self.final is not None:
            extra.append(("WWW-Authenticate", "%s %s" % (self.final[0], base64.b64encode(self.final[1]).decode())))
        if not body:
            STATS.add("handshakePosts")
            return self._send(200, b"", extra)
        ctype = self.headers.get("Content-Type", "")
        encrypted = bool(re.match(r"multipart/(x-multi-)?encrypted\s*;", ctype, re.I))
        if encrypted:
            m = re.search(r'boundary="?([^";]+)"?', ctype)
            p = re.search(r'protocol="?([^";]+)"?', ctype)
            protocol = CREDSSP_ENCRYPTED if self.credssp is not None else SPNEGO_ENCRYPTED
            if self.credssp is None and self.scheme == "Kerberos":
                protocol = KERBEROS_ENCRYPTED
            if m is None or p is None or p.group(1).lower() != protocol.lower():
                STATS.add("decryptFailures")
                return self._send(400, b"unsupported encrypted content type", extra)
            unseal = self.credssp.unwrap_winrm if self.credssp is not None else ntlm_unseal(self.ctx)
            if self.credssp is None and self.mech == "Kerberos":
                unseal = krb5_unseal(self.ctx)
            try:
                plain, otype, parts = parse_encrypted(unseal, body, m.group(1), protocol)
            except Exception as e:
                STATS.add("decryptFailures")
                log("decrypt failure:", type(e).__name__, e)
                self.close_connection = True
                return self._send(400, b"decrypt failure", extra)
            STATS.add("encryptedRequests")
            STATS.user(protocol, "encryptionProtocols")
            STATS.add("encryptedBytes", len(body))
            STATS.max("largestEncryptedRequest", len(body))
            STATS.max("maxRequestParts", parts)
            if ctype.lower().startswith("multipart/x-multi-encrypted"):
                STATS.add("multipartRequests")
            debug("decrypted %d -> %d bytes in %d part(s)" % (len(body), len(plain), parts))
        else:
            STATS.add("plaintextRequests")
            if not self.tls and not ARGS.allow_unencrypted:
                STATS.add("plaintextRefused")
                log("refused a clear-text %s body over HTTP" % ctype)
                # Windows answers NTLM clients that do not encrypt over HTTP with 401 (AllowUnencrypted=false;
                # seen in hashicorp/packer#6205); the connection's authentication is void
                self.ctx = None
                self.credssp = None
                self.user = None
                return self._challenge()
            plain, otype = body, ctype or SOAP_TYPE
        try:
            status, rtype, reply = self._forward(plain, otype)
        except ClientGone:
            STATS.add("clientHangups")
            self.close_connection = True
            return
        except Exception as e:
            STATS.add("upstreamErrors")
            log("upstream failure:", type(e).__name__, e)
            return self._send(502, b"upstream failure", extra)
        STATS.add("forwarded")
        headers = list(extra)
        if encrypted and reply:
            if self.credssp is not None:
                rtype, reply, parts = build_encrypted(self.credssp.wrap_winrm, reply, CREDSSP_ENCRYPTED)
            elif self.mech == "Kerberos":
                rtype, reply, parts = build_encrypted(krb5_seal(self.ctx), reply, protocol)
            else:
                rtype, reply, parts = build_encrypted(ntlm_seal(self.ctx), reply)
            STATS.add("encryptedReplies")
            STATS.max("largestEncryptedReply", len(reply))
            STATS.max("maxReplyParts", parts)
            if parts > 1:
                STATS.add("multipartReplies")
        if rtype:
            headers.append(("Content-Type", rtype))
        try:
            self._send(status, reply, headers)
        except OSError:
            self.close_connection = True

    # -------------------------------------------------------- upstream
    def _drop_upstream(self):
        if self.upstream is not None:
            try:
                self.upstream.close()
            except Exception:
                pass
            self.upstream = None

    def _client_gone(self):
        """True when the client closed its socket (no pipelining: nothing else may arrive now)."""
        try:
            data = socket.socket.recv(self.connection, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None  # spurious wake-up
        except OSError:
            return True
        if data == b"":
            return True
        # over TLS a TLS alert record (content type 21, e.g. close_notify) also means the client is leaving
        return self.tls and data == b"\x15"

    def _forward(self, body, ctype):
        u = self.server.upstream
        for attempt in (0, 1):
            reused = self.upstream is not None
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(u.hostname, u.port or 80)
            conn = self.upstream
            try:
                conn.request("POST", u.path or "/wsman", body=body, headers={
                    "Content-Type": ctype, "Connection": "Keep-Alive"})
                watch = [self.connection]
                while True:
                    r, _, _ = select.select([conn.sock] + watch, [], [], 1.0)
                    if conn.sock in r:
                        break
                    if watch and self.connection in r:
                        gone = self._client_gone()
                        if gone:
                            self._drop_upstream()
                            raise ClientGone()
                        if gone is False:
                            watch = []  # data or a TLS record: stop watching, wait for upstream
                resp = conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self._drop_upstream()
                return resp.status, resp.getheader("Content-Type"), data
            except ClientGone:
                raise
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self._drop_upstream()
                if attempt == 0 and reused:
                    continue  # a stale keep-alive connection
                raise


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread (not the accept loop)
        if self.ssl_context is not None:
            try:
                request.settimeout(15)
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ssl.SSLError) as e:
                debug("TLS handshake failed:", e)
                request.close()
                return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ConnectionError, BrokenPipeError, ssl.SSLError, TimeoutError)):
            return
        log("error on connection from %s: %s: %s" % (client_address, type(e).__name__, e))


def check_password(domain, user, password):
    """True when the delegated CredSSP credentials match a line of the user file."""
    if "@" in user and not domain:
        user = user.split("@", 1)[0]
    try:
        with open(ARGS.user_file or os.environ["NTLM_USER_FILE"], encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        d, u, p = parts
        if u.lower() == user.lower() and (not domain or d.lower() == domain.lower()) and p == password:
            return True
    return False


def shutdown(*_):
    try:
        log("exiting; stats " + json.dumps(STATS.snapshot()))
    finally:
        os._exit(0)


def watch_stdin():
    try:
        while sys.stdin.buffer.read1(65536):
            pass
    except Exception:
        pass
    shutdown()


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--upstream", required=True, help="http://127.0.0.1:<port>/wsman (no authentication)")
    p.add_argument("--user-file", help="NTLM_USER_FILE for gss-ntlmssp (DOMAIN:USER:PASSWORD lines)")
    p.add_argument("--netbios-domain", default="LAB")
    p.add_argument("--netbios-computer", default="WINRMSRV")
    p.add_argument("--cert", help="PEM certificate: serve HTTPS")
    p.add_argument("--key", help="PEM key of --cert")
    p.add_argument("--require-cbt", action="store_true", help="over HTTPS, refuse tokens without channel bindings")
    p.add_argument("--allow-unencrypted", action="store_true", help="accept clear-text SOAP over HTTP")
    p.add_argument("--credssp-cert", help="PEM certificate of the CredSSP TLS server: offer CredSSP")
    p.add_argument("--credssp-key", help="PEM key of --credssp-cert")
    p.add_argument("--credssp-tls-max", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--credssp-version", type=int, choices=range(2, 7), default=6,
                   help="the CredSSP version the acceptor announces")
    p.add_argument("--no-stdin-watch", action="store_true", help="do not exit when stdin closes")
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    if ARGS.user_file:
        os.environ["NTLM_USER_FILE"] = ARGS.user_file
    os.environ.setdefault("NETBIOS_DOMAIN_NAME", ARGS.netbios_domain)
    os.environ.setdefault("NETBIOS_COMPUTER_NAME", ARGS.netbios_computer)
    if not os.environ.get("NTLM_USER_FILE"):
        p.error("--user-file (or NTLM_USER_FILE) is required")
    up = urllib.parse.urlsplit(ARGS.upstream)
    if up.scheme != "http" or not up.hostname:
        p.error("--upstream must be an http:// URL")

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    srv.upstream = up
    srv.ssl_context = None
    srv.cbt = None
    srv.credssp_tls = None
    srv.credssp_pubkey = None
    if ARGS.credssp_cert:
        srv.credssp_tls = credssp.server_tls_context(ARGS.credssp_cert, ARGS.credssp_key or ARGS.credssp_cert,
                                                     ARGS.credssp_tls_max)
        with open(ARGS.credssp_cert) as f:
            srv.credssp_pubkey = credssp.subject_public_key(ssl.PEM_cert_to_DER_cert(f.read()))
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        srv.ssl_context = ctx
        with open(ARGS.cert) as f:
            srv.cbt = tls_server_end_point(ssl.PEM_cert_to_DER_cert(f.read()))
    port = srv.server_address[1]
    if not ARGS.no_stdin_watch:
        threading.Thread(target=watch_stdin, daemon=True).start()
    print("LISTENING %d" % port, flush=True)
    log("listening on %s://127.0.0.1:%d -> %s (require CBT: %s, CredSSP: %s)" % (
        "https" if ARGS.cert else "http", port, ARGS.upstream, ARGS.require_cbt,
        "v%d TLS<=%s" % (ARGS.credssp_version, ARGS.credssp_tls_max) if ARGS.credssp_cert else "off"))
    srv.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
