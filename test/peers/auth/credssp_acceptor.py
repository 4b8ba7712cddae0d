"""CredSSP acceptor (MS-CSSP 3.1.5, server side) for the project's WinRM auth front.

Written for this project (no third-party code): the TLS server runs in an ssl.MemoryBIO pair, the
TSRequest / TSCredentials DER codecs are below, the inner authentication is a GSSAPI acceptor
(SPNEGO over Kerberos or NTLM, or raw NTLM through gss-ntlmssp), pubKeyAuth is checked for CredSSP
versions 2-6 (with the v5+ client nonce), and the delegated TSPasswordCreds are accepted only when
the password matches the user file. After authentication WinRM message parts are TLS application-data records.

Needs Debian's python3 and python3-gssapi only.
"""
import hashlib
import re
import ssl

import gssapi

NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
SPNEGO_OID_DER = b"\x06\x06\x2b\x06\x01\x05\x05\x02"  # 1.3.6.1.5.5.2
MECH_NAMES = {
    "1.3.6.1.4.1.311.2.2.10": "NTLM",
    "1.2.840.113554.1.2.2": "Kerberos",
    "1.2.840.48018.1.2.2": "Kerberos",
}

STATUS_LOGON_FAILURE = 0xC000006D
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_ACCESS_DENIED = 0xC0000022

CLIENT_MAGIC = b"CredSSP Client-To-Server Binding Hash\x00"
SERVER_MAGIC = b"CredSSP Server-To-Client Binding Hash\x00"


class CredSSPError(Exception):
    """Authentication failed; `reply` is the token to return (a TSRequest with errorCode) or None."""

    def __init__(self, status, message, reply=None):
        super().__init__(message)
        self.status = status
        self.reply = reply


# ---------------------------------------------------------------- minimal DER
def _len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag, value):
    return bytes([tag]) + _len(len(value)) + value


def _int(i, signed32=False):
    if signed32 and i > 0x7FFFFFFF:
        i -= 1 << 32
    return _tlv(0x02, i.to_bytes(max(1, (i.bit_length() + 8) // 8), "big", signed=True))


def _read(b, off=0):
    """One TLV at off -> (tag, value, next offset); ValueError when malformed."""
    if off + 2 > len(b):
        raise ValueError("truncated DER")
    tag, ln = b[off], b[off + 1]
    off += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4 or off + n > len(b):
            raise ValueError("bad DER length")
        ln = int.from_bytes(b[off:off + n], "big")
        off += n
    if off + ln > len(b):
        raise ValueError("DER value overruns its container")
    return tag, b[off:off + ln], off + ln


def _fields(b):
    """SEQUENCE of [n] EXPLICIT -> {n: inner TLV bytes}."""
    tag, val, end = _read(b)
    if tag != 0x30 or end != len(b):
        raise ValueError("not one DER SEQUENCE")
    out, off = {}, 0
    while off < len(val):
        t, v, off = _read(val, off)
        if t & 0xE0 != 0xA0:
            raise ValueError("expected a context tag")
        out[t & 0x1F] = v
    return out


def _octets(inner):
    tag, v, _ = _read(inner)
    if tag != 0x04:
        raise ValueError("expected OCTET STRING")
    return v


def _integer(inner):
    tag, v, _ = _read(inner)
    if tag != 0x02:
        raise ValueError("expected INTEGER")
    return int.from_bytes(v, "big", signed=True)


def ts_request_decode(b):
    """MS-CSSP 2.2.1 TSRequest -> dict."""
    f = _fields(b)
    r = {"version": _integer(f[0])}
    if 1 in f:
        tag, seq, _ = _read(f[1])
        toks, off = [], 0
        while off < len(seq):
            _, item, off = _read(seq, off)
            _, ctx0, _ = _read(item)
            toks.append(_octets(ctx0))
        r["negoTokens"] = toks
    for n, k in ((2, "authInfo"), (3, "pubKeyAuth"), (5, "clientNonce")):
        if n in f:
            r[k] = _octets(f[n])
    if 4 in f:
        r["errorCode"] = _integer(f[4]) & 0xFFFFFFFF
    return r


def ts_request_encode(version, nego_token=None, pub_key_auth=None, error_code=None):
    els = _tlv(0xA0, _int(version))
    if nego_token:
        els += _tlv(0xA1, _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0x04, nego_token)))))
    if pub_key_auth is not None:
        els += _tlv(0xA3, _tlv(0x04, pub_key_auth))
    if error_code is not None:
        els += _tlv(0xA4, _int(error_code, signed32=True))
    return _tlv(0x30, els)


def ts_credentials_decode(b):
    """MS-CSSP 2.2.1.2 TSCredentials with 2.2.1.2.1 TSPasswordCreds -> dict."""
    f = _fields(b)
    cred_type = _integer(f[0])
    creds = _octets(f[1])
    if cred_type != 1:
        return {"credType": cred_type}
    p = _fields(creds)
    text = lambda n: _octets(p[n]).decode("utf-16-le") if n in p else ""
    return {"credType": 1, "domain": text(0), "user": text(1), "password": text(2)}


def subject_public_key(cert_der):
    """The SubjectPublicKey BIT STRING contents of an X.509 certificate (RFC 5280 4.1)."""
    _, cert, _ = _read(cert_der)
    _, tbs, _ = _read(cert)
    off = 0
    tag, _, nxt = _read(tbs, off)
    if tag == 0xA0:
        off = nxt
    for _ in range(5):  # serialNumber, signature, issuer, validity, subject
        _, _, off = _read(tbs, off)
    _, spki, _ = _read(tbs, off)
    _, _, off = _read(spki)  # algorithm
    tag, bits, _ = _read(spki, off)
    if tag != 0x03 or not bits or bits[0] != 0:
        raise ValueError("bad subjectPublicKey")
    return bits[1:]


def tls_trailer_length(data_len, protocol, cipher):
    """Header length of a CredSSP-encrypted WinRM part (pyspnego's rule; notes/auth.md 1.5)."""
    if protocol == "TLSv1.3":
        return 17
    if re.match(r"^.*[-_]GCM[-_][\w\d]*$", cipher):
        return 16
    h = {"MD5": 16, "SHA": 20, "SHA256": 32, "SHA384": 48}.get(cipher.split("-")[-1], 0)
    pre = data_len + h
    pad = 0 if "RC4" in cipher else (8 - pre % 8 if "DES" in cipher else 16 - pre % 16)
    return pre + pad - data_len


def server_tls_context(certfile, keyfile, tls_max):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(certfile, keyfile)
    c.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max == "1.2":
        c.maximum_version = ssl.TLSVersion.TLSv1_2
    return c


class CredSSPAcceptor:
    """One CredSSP exchange (one HTTP connection).

    `check_password(domain, user, password) -> bool`; `version` is the CredSSP version announced
    (2-6): errorCode replies only from v3, the nonce-hashed pubKeyAuth when min(client, server) >= 5.
    """

    def __init__(self, tls_context, public_key, version, check_password, log=None):
        self.inb, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = tls_context.wrap_bio(self.inb, self.outb, server_side=True)
        self.public_key = public_key
        self.version = version
        self.check_password = check_password
        self.log = log or (lambda *a: None)
        self.stage = "tls"
        self.inner = None
        self.complete = False
        self.client_version = None
        self.negotiated = None
        self.user = None
        self.inner_spnego = False  # the client's first inner token was a SPNEGO NegTokenInit

    # ---- TLS
    def _read_plain(self):
        chunks = []
        while True:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def _seal(self, data):
        self.tls.write(data)
        return self.outb.read()

    @property
    def tls_version(self):
        return self.tls.version()

    @property
    def inner_mech(self):
        """`Kerberos` or `NTLM`: the mechanism the inner exchange (raw or under SPNEGO) ended on."""
        try:
            oid = self.inner.mech.dotted_form
        except Exception:
            return None
        return MECH_NAMES.get(oid, oid)

    @property
    def cipher(self):
        c = self.tls.cipher()
        return c[0] if c else None

    # ---- exchange
    def step(self, token):
        """Processes one client token; returns the token to answer with (may be b"")."""
        if self.stage == "tls":
            self.inb.write(token)
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                return self.outb.read()
            except ssl.SSLError as e:
                raise CredSSPError(STATUS_ACCESS_DENIED, "TLS handshake failed: %s" % e, self.outb.read() or None)
            self.stage = "auth"
            self.log("CredSSP TLS established", self.tls_version, self.cipher)
            out = self.outb.read()
            plain = self._read_plain()
            if plain:
                return out + self._ts(plain)
            return out
        self.inb.write(token)
        try:
            plain = self._read_plain()
        except ssl.SSLError as e:
            raise CredSSPError(STATUS_ACCESS_DENIED, "TLS record error: %s" % e)
        out = self.outb.read()  # e.g. session tickets after the client Finished
        if not plain:
            return out
        return out + self._ts(plain)

    def _inner_complete(self):
        # python-gssapi re-raises a failed step's error on attribute access (SPNEGO answers a wrong
        # password with a reject token instead of raising from step())
        try:
            return self.inner is not None and bool(self.inner.complete)
        except Exception:
            return False

    def _fail(self, status, message):
        reply = None
        if self.version >= 3:
            reply = self._seal(ts_request_encode(self.version, error_code=status))
        raise CredSSPError(status, message, reply)

    def _ts(self, plain):
        try:
            req = ts_request_decode(plain)
        except (ValueError, KeyError, IndexError) as e:
            self._fail(STATUS_INVALID_PARAMETER, "malformed TSRequest: %s" % e)
        if self.client_version is None:
            self.client_version = req["version"]
            self.negotiated = min(req["version"], self.version)
        if self.stage == "auth":
            out_tok = None
            if "negoTokens" in req:
                tok = req["negoTokens"][0]
                if self.inner is None:
                    if tok.startswith(b"NTLMSSP\x00"):
                        creds = gssapi.Credentials(usage="accept", mechs=[NTLM_OID])
                    else:
                        # SPNEGO with the default acceptor credentials of every mechanism: NTLM
                        # (gss-ntlmssp, NTLM_USER_FILE) and, when the peer has a realm, Kerberos
                        # from the keytab in KRB5_KTNAME (HTTP/<host>).
                        self.inner_spnego = tok[:1] == b"\x60" and tok[2:20].find(SPNEGO_OID_DER) >= 0
                        creds = None
                    self.inner = gssapi.SecurityContext(usage="accept", creds=creds)
                try:
                    out_tok = self.inner.step(tok)
                except Exception as e:
                    self._fail(STATUS_LOGON_FAILURE, "inner authentication failed: %s" % str(e).replace("\n", " ")[:160])
            if "pubKeyAuth" not in req:
                if self.inner is None:
                    self._fail(STATUS_INVALID_PARAMETER, "TSRequest without negoTokens")
                return self._seal(ts_request_encode(self.version, nego_token=out_tok or b""))
            if not self._inner_complete():
                self._fail(STATUS_LOGON_FAILURE, "pubKeyAuth before the inner authentication completed")
            try:
                got = self.inner.unwrap(req["pubKeyAuth"]).message
            except Exception as e:
                self._fail(STATUS_LOGON_FAILURE, "pubKeyAuth does not unwrap: %s" % e)
            nonce = req.get("clientNonce")
            if self.negotiated >= 5:
                if nonce is None or len(nonce) != 32:
                    self._fail(STATUS_INVALID_PARAMETER, "CredSSP v%d without a 32-byte clientNonce" % self.negotiated)
                expect = hashlib.sha256(CLIENT_MAGIC + nonce + self.public_key).digest()
                answer = hashlib.sha256(SERVER_MAGIC + nonce + self.public_key).digest()
            else:
                expect = self.public_key
                answer = bytes([(self.public_key[0] + 1) & 0xFF]) + self.public_key[1:]
            if got != expect:
                self._fail(STATUS_LOGON_FAILURE, "pubKeyAuth does not match the server key")
            self.log("CredSSP pubKeyAuth OK: client v%d, negotiated v%d, %s, inner %s" % (
                self.client_version, self.negotiated, "nonce" if self.negotiated >= 5 else "no nonce", self.inner_mech))
            self.stage = "creds"
            return self._seal(ts_request_encode(self.version, nego_token=out_tok,
                                                pub_key_auth=self.inner.wrap(answer, True).message))
        if self.stage == "creds":
            if "authInfo" not in req:
                self._fail(STATUS_INVALID_PARAMETER, "TSRequest without authInfo")
            try:
                creds = ts_credentials_decode(self.inner.unwrap(req["authInfo"]).message)
            except Exception as e:
                self._fail(STATUS_INVALID_PARAMETER, "authInfo does not unwrap or decode: %s" % e)
            if creds.get("credType") != 1:
                self._fail(STATUS_LOGON_FAILURE, "credType %s is not password credentials" % creds.get("credType"))
            if not self.check_password(creds["domain"], creds["user"], creds["password"]):
                self._fail(STATUS_LOGON_FAILURE, "the delegated password does not match the user file")
            self.user = ("%s\\%s" % (creds["domain"], creds["user"])) if creds["domain"] else creds["user"]
            self.complete = True
            self.stage = "done"
            return b""
        self._fail(STATUS_INVALID_PARAMETER, "unexpected TSRequest in stage %s" % self.stage)

    # ---- WinRM message parts
    def wrap_winrm(self, data):
        enc = self._seal(data)
        n = tls_trailer_length(len(data), self.tls_version, self.cipher)
        return enc[:n], enc[n:]

    def unwrap_winrm(self, header, data):
        self.inb.write(header + data)
        return self._read_plain()
