#!/usr/bin/env python3
"""Reads S/MIME messages as a strict DER reader does, without OpenSSL's CMS code.

Python cryptography (>= 45) parses CMS with rust-asn1, which accepts DER only: an indefinite
length (BER `30 80`) or a content cut into a constructed OCTET STRING is refused. Its own
readers are used where it has them (pkcs7_decrypt_der for EnvelopedData to RSA PKCS #1 v1.5
recipients, load_der_pkcs7_certificates for SignedData); what they do not read (RSA-OAEP and
ECDH key agreement recipients, AuthEnvelopedData) and signature checks, which it does not
offer, are done here over a strict DER walk with its primitives (RSA, ECDH, X9.63 KDF, AES key
wrap, AES-CBC and AES-GCM, ECDSA, SHA-2, X.509).

  cms_reader.py der FILE                decrypt-free check: every length definite and minimal,
                                        no constructed string, the content one primitive
                                        OCTET STRING; prints the CMS content type
  cms_reader.py decrypt FILE CERT KEY   prints the decrypted entity
  cms_reader.py verify FILE CA          opaque SignedData or multipart/signed; checks the
                                        signature and that CA issued the signer; prints the
                                        signed entity

FILE is a message (header, empty line, body). Exit 0 on success, 1 with the reason on stderr.
"""
import base64
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.hazmat.primitives.serialization import pkcs7

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED = "1.2.840.113549.1.7.2"
OID_ENVELOPED = "1.2.840.113549.1.7.3"
OID_AUTH_ENVELOPED = "1.2.840.113549.1.9.16.1.23"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
DIGESTS = {"2.16.840.1.101.3.4.2.1": hashes.SHA256, "2.16.840.1.101.3.4.2.2": hashes.SHA384,
           "2.16.840.1.101.3.4.2.3": hashes.SHA512}
ECDSA = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}
RSA_PKCS1 = {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"}
RSA_PSS = "1.2.840.113549.1.1.10"
RSA_OAEP = "1.2.840.113549.1.1.7"
RSA_PKCS1_KT = "1.2.840.113549.1.1.1"
DIGEST_OBJECTS = {"1.3.14.3.2.26": hashes.SHA1, "2.16.840.1.101.3.4.2.1": hashes.SHA256,
                  "2.16.840.1.101.3.4.2.2": hashes.SHA384, "2.16.840.1.101.3.4.2.3": hashes.SHA512}
CBC = {"2.16.840.1.101.3.4.1.2", "2.16.840.1.101.3.4.1.42"}
# dhSinglePass-stdDH-sha*kdf-scheme (RFC 5753 7.1.4) and their hash.
ECDH_KDF = {"1.3.133.16.840.63.0.2": hashes.SHA1, "1.3.132.1.11.0": hashes.SHA224,
            "1.3.132.1.11.1": hashes.SHA256, "1.3.132.1.11.2": hashes.SHA384, "1.3.132.1.11.3": hashes.SHA512}
AES_WRAP = {"2.16.840.1.101.3.4.1.5": 16, "2.16.840.1.101.3.4.1.25": 24, "2.16.840.1.101.3.4.1.45": 32}
GCM = {"2.16.840.1.101.3.4.1.6", "2.16.840.1.101.3.4.1.46"}
# Universal string types that DER encodes primitive only (X.690 10.2).
STRING_TAGS = {3, 4, 12, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30}


class Fail(Exception):
    pass


class Element:
    """One DER element: its first tag octet, whether constructed, its contents' span."""

    def __init__(self, data, start):
        if start >= len(data):
            raise Fail("truncated at %d" % start)
        i = start + 1
        if data[start] & 0x1F == 0x1F:
            while i < len(data) and data[i] & 0x80:
                i += 1
            i += 1
        if i >= len(data):
            raise Fail("truncated at %d" % start)
        first = data[i]
        i += 1
        if first == 0x80:
            raise Fail("indefinite length at offset %d (BER, not DER)" % start)
        if first & 0x80:
            n = first & 0x7F
            octets = data[i:i + n]
            if n == 0x7F or len(octets) != n:
                raise Fail("bad length at offset %d" % start)
            if octets[0] == 0:
                raise Fail("length with a leading zero at offset %d" % start)
            length = int.from_bytes(octets, "big")
            if length < 0x80:
                raise Fail("long form of a short length at offset %d" % start)
            i += n
        else:
            length = first
        if i + length > len(data):
            raise Fail("element at offset %d runs past its container" % start)
        self.data, self.start, self.tag = data, start, data[start]
        self.constructed = bool(self.tag & 0x20)
        self.content_start, self.end = i, i + length

    @property
    def content(self):
        return self.data[self.content_start:self.end]

    @property
    def encoding(self):
        return self.data[self.start:self.end]

    def children(self):
        if not self.constructed:
            raise Fail("primitive element at offset %d has no children" % self.start)
        out, i = [], self.content_start
        while i < self.end:
            child = Element(self.data, i)
            if child.end > self.end:
                raise Fail("element at offset %d runs past its container" % i)
            out.append(child)
            i = child.end
        return out

    def child(self, tag, nth=0):
        found = [c for c in self.children() if c.tag == tag]
        if len(found) <= nth:
            raise Fail("no element with tag %02x in the element at offset %d" % (tag, self.start))
        return found[nth]

    def oid(self):
        if self.tag != 0x06:
            raise Fail("not an OBJECT IDENTIFIER at offset %d" % self.start)
        arcs, value = [], 0
        for b in self.content:
            value = value << 7 | (b & 0x7F)
            if not b & 0x80:
                arcs.append(value)
                value = 0
        first = min(arcs[0] // 40, 2)
        return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def check_der(data):
    """Every element strictly DER (definite, minimal lengths; strings primitive), one element in all."""
    root = Element(data, 0)
    if root.end != len(data):
        raise Fail("%d bytes after the ContentInfo" % (len(data) - root.end))
    stack = [root]
    while stack:
        e = stack.pop()
        if e.tag == 0x00:
            raise Fail("end-of-contents octets at offset %d (BER)" % e.start)
        if e.constructed and e.tag & 0xC0 == 0 and e.tag & 0x1F in STRING_TAGS:
            raise Fail("constructed string (tag %02x) at offset %d (BER)" % (e.tag, e.start))
        if e.constructed:
            stack.extend(e.children())
    return root


def message_parts(raw):
    """(header bytes, body bytes) of a message whose lines end in CRLF."""
    at = raw.find(b"\r\n\r\n")
    if at < 0:
        raise Fail("no header/body separator")
    return raw[:at + 2], raw[at + 4:]


def header_value(header, name):
    unfolded = header.replace(b"\r\n\t", b" ").replace(b"\r\n ", b" ")
    for line in unfolded.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip().decode()
    return ""


def pkcs7_der(raw):
    header, body = message_parts(raw)
    if "pkcs7-mime" not in header_value(header, b"Content-Type"):
        raise Fail("not application/pkcs7-mime")
    return base64.b64decode(body, validate=False)


def content_info(der):
    root = check_der(der)
    kind = root.child(0x06).oid()
    inner = root.child(0xA0).child(0x30)
    if kind in (OID_ENVELOPED, OID_AUTH_ENVELOPED):
        encrypted = inner.child(0x30)  # (Auth)EncryptedContentInfo
        if encrypted.children()[-1].tag != 0x80:
            raise Fail("encryptedContent is not one primitive [0] OCTET STRING")
    elif kind == OID_SIGNED:
        encap = inner.child(0x30)
        wrapped = [c for c in encap.children() if c.tag == 0xA0]
        if wrapped and wrapped[0].children()[0].tag != 0x04:
            raise Fail("eContent is not one primitive OCTET STRING")
    return kind, inner


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def decrypt(raw, cert_path, key_path):
    der = pkcs7_der(raw)
    cert = load_cert(cert_path)
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    try:
        kind, env = content_info(der)
    except Fail:
        pkcs7.pkcs7_decrypt_der(der, cert, key, [])  # cryptography's own verdict on what is not DER
        raise
    ris = env.child(0x31).children()
    if kind == OID_ENVELOPED and all(ri.tag == 0x30 and ri.children()[2].child(0x06).oid() == RSA_PKCS1_KT for ri in ris):
        return pkcs7.pkcs7_decrypt_der(der, cert, key, [])  # cryptography's own strict reader
    # What pkcs7_decrypt_der does not read (OAEP, ECDH key agreement, AuthEnvelopedData): the
    # content key from this certificate's RecipientInfo, then the content, over the DER walk.
    content_key = None
    for ri in ris:
        if ri.tag == 0x30:
            content_key = key_transport(ri, cert, key)
        elif ri.tag == 0xA1:
            content_key = key_agreement(ri, cert, key)
        if content_key is not None:
            break
    if content_key is None:
        raise Fail("no RecipientInfo for this certificate")
    if kind == OID_ENVELOPED:
        # RFC 5652 6.1: version, originatorInfo?, recipientInfos, encryptedContentInfo.
        info = env.child(0x30)
        algorithm = info.child(0x30)
        if algorithm.child(0x06).oid() not in CBC:
            raise Fail("EnvelopedData without AES-CBC")
        iv = algorithm.child(0x04).content
        decryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(info.child(0x80).content) + decryptor.finalize()
        unpadder = sym_padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    # RFC 5083 2.1: version, recipientInfos, authEncryptedContentInfo, authAttrs?, mac.
    info = env.child(0x30)
    algorithm = info.child(0x30)
    if algorithm.child(0x06).oid() not in GCM:
        raise Fail("AuthEnvelopedData without AES-GCM")
    params = algorithm.child(0x30).children()
    nonce = params[0].content
    icv = int.from_bytes(params[1].content, "big") if len(params) > 1 else 12
    mac = env.child(0x04).content
    if len(mac) != icv:
        raise Fail("mac of %d octets, icvLen %d" % (len(mac), icv))
    aad = None
    attrs = [c for c in env.children() if c.tag == 0xA1]
    if attrs:
        aad = b"\x31" + attrs[0].encoding[1:]
    return AESGCM(content_key).decrypt(nonce, info.child(0x80).content + mac, aad)


def names_certificate(rid, cert):
    """Whether a RecipientIdentifier (issuerAndSerialNumber or [0] subjectKeyIdentifier) is `cert`."""
    if rid.tag == 0x30:
        issuer, serial = rid.children()[0], rid.children()[1]
        return issuer.encoding == cert.issuer.public_bytes() and int.from_bytes(serial.content, "big") == cert.serial_number
    if rid.tag in (0x80, 0xA0):  # [0] subjectKeyIdentifier (ktri), [0] rKeyId (kari)
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        return (rid.content if rid.tag == 0x80 else rid.child(0x04).content) == ski
    return False


def key_transport(ri, cert, key):
    """KeyTransRecipientInfo (RFC 5652 6.2.1): RSAES-PKCS1-v1_5 or RSAES-OAEP (RFC 3560)."""
    fields = ri.children()
    rid, alg, encrypted_key = fields[1], fields[2], fields[3]
    if not names_certificate(rid, cert):
        return None
    scheme = alg.child(0x06).oid()
    if scheme == RSA_PKCS1_KT:
        return key.decrypt(encrypted_key.content, padding.PKCS1v15())
    if scheme != RSA_OAEP:
        raise Fail("key transport %s" % scheme)
    # RSAES-OAEP-params: [0] hash, [1] MGF (MGF1 with its hash), [2] label source; SHA-1 when absent.
    oaep_hash, mgf_hash = hashes.SHA1(), hashes.SHA1()
    params = [c for c in alg.children() if c.tag == 0x30]
    for p in (params[0].children() if params else []):
        if p.tag == 0xA0:
            oaep_hash = DIGEST_OBJECTS[p.child(0x30).child(0x06).oid()]()
        elif p.tag == 0xA1:
            mgf_hash = DIGEST_OBJECTS[p.child(0x30).child(0x30).child(0x06).oid()]()
    return key.decrypt(encrypted_key.content, padding.OAEP(padding.MGF1(mgf_hash), oaep_hash, None))


def key_agreement(ri, cert, key):
    """KeyAgreeRecipientInfo with ephemeral-static ECDH (RFC 5753 3.1): the X9.63 KDF over
    ECC-CMS-SharedInfo, then the content key unwrapped with AES key wrap (RFC 3394)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    fields = ri.children()
    originator = fields[1]                    # [0] EXPLICIT OriginatorIdentifierOrKey
    ukm = [f for f in fields if f.tag == 0xA1]
    algorithm = [f for f in fields if f.tag == 0x30][0]
    encrypted_keys = [f for f in fields if f.tag == 0x30][1]
    chosen = None
    for rek in encrypted_keys.children():
        rid, encrypted_key = rek.children()
        if names_certificate(rid, cert):
            chosen = encrypted_key.content
    if chosen is None:
        return None
    origin = originator.children()[0]
    if origin.tag != 0xA1:
        raise Fail("originator is not an originatorKey")
    point = origin.child(0x03).content[1:]    # BIT STRING: unused-bits octet, then the point
    peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
    shared = key.exchange(ec.ECDH(), peer)
    scheme = algorithm.child(0x06).oid()
    if scheme not in ECDH_KDF:
        raise Fail("key agreement %s" % scheme)
    wrap = algorithm.child(0x30)              # KeyWrapAlgorithm
    wrap_oid = wrap.child(0x06).oid()
    if wrap_oid not in AES_WRAP:
        raise Fail("key wrap %s" % wrap_oid)
    kek_length = AES_WRAP[wrap_oid]
    # ECC-CMS-SharedInfo ::= SEQUENCE { keyInfo, entityUInfo [0] EXPLICIT OPTIONAL, suppPubInfo [2] EXPLICIT }
    supp = der_tlv(0xA2, der_tlv(0x04, (kek_length * 8).to_bytes(4, "big")))
    entity = der_tlv(0xA0, der_tlv(0x04, ukm[0].child(0x04).content)) if ukm else b""
    shared_info = der_tlv(0x30, wrap.encoding + entity + supp)
    kek = X963KDF(algorithm=ECDH_KDF[scheme](), length=kek_length, sharedinfo=shared_info).derive(shared)
    return aes_key_unwrap(kek, chosen)


def der_tlv(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def verify_signed_data(der, content, ca):
    """Checks SignedData `der` over `content` (None: encapsulated); returns the content."""
    pkcs7.load_der_pkcs7_certificates(der)  # cryptography's own strict parse of the whole structure
    kind, sd = content_info(der)
    if kind != OID_SIGNED:
        raise Fail("not signed data: %s" % kind)
    encap = sd.child(0x30)
    if content is None:
        content = encap.child(0xA0).child(0x04).content
    certs = [x509.load_der_x509_certificate(c.encoding) for c in sd.child(0xA0).children()]
    signer_infos = [c for c in sd.children() if c.tag == 0x31][-1].children()  # the last SET
    if not signer_infos:
        raise Fail("no SignerInfo")
    for si in signer_infos:
        fields = si.children()
        sid, digest_alg = fields[1], fields[2]
        attrs = si.child(0xA0)
        sig_alg = next(c for c in fields if c.start > attrs.start and c.tag == 0x30)
        signature = si.child(0x04).content
        issuer, serial = sid.children()
        cert = next((c for c in certs if c.issuer.public_bytes() == issuer.encoding
                     and c.serial_number == int.from_bytes(serial.content, "big")), None)
        if cert is None:
            raise Fail("the signer's certificate is not in the SignedData")
        digest = DIGESTS[digest_alg.child(0x06).oid()]
        values = {}
        for attr in attrs.children():
            values[attr.child(0x06).oid()] = attr.child(0x31).children()[0]
        if values[OID_CONTENT_TYPE].oid() != encap.child(0x06).oid():
            raise Fail("contentType attribute differs from eContentType")
        h = hashes.Hash(digest())
        h.update(content)
        if values[OID_MESSAGE_DIGEST].content != h.finalize():
            raise Fail("messageDigest does not match the content")
        signed = b"\x31" + attrs.encoding[1:]  # RFC 5652 5.4: the SET OF tag, not [0]
        scheme = sig_alg.child(0x06).oid()
        public = cert.public_key()
        if scheme in ECDSA and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, signed, ec.ECDSA(digest()))
        elif scheme in RSA_PKCS1 and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signed, padding.PKCS1v15(), digest())
        elif scheme == RSA_PSS and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signed, padding.PSS(padding.MGF1(digest()), digest().digest_size), digest())
        else:
            raise Fail("signature algorithm %s" % scheme)
        cert.verify_directly_issued_by(load_cert(ca))
    return content


def verify(raw, ca):
    header, body = message_parts(raw)
    ctype = header_value(header, b"Content-Type")
    if "application/pkcs7-mime" in ctype:
        return verify_signed_data(pkcs7_der(raw), None, ca)
    if "multipart/signed" not in ctype:
        raise Fail("neither signed-data nor multipart/signed: %s" % ctype)
    boundary = ctype.split('boundary="', 1)[1].split('"', 1)[0].encode()
    start = body.index(b"--" + boundary + b"\r\n") + len(boundary) + 4
    end = body.index(b"\r\n--" + boundary + b"\r\n", start)
    content = body[start:end]
    sig_part = body[end + len(boundary) + 6:body.index(b"\r\n--" + boundary + b"--", end)]
    _, sig_body = message_parts(sig_part)
    der = base64.b64decode(sig_body)
    return verify_signed_data(der, content, ca)


def main(argv):
    try:
        with open(argv[2], "rb") as f:
            raw = f.read()
        if argv[1] == "der":
            kind, _ = content_info(pkcs7_der(raw))
            out = kind.encode() + b"\n"
        elif argv[1] == "decrypt":
            out = decrypt(raw, argv[3], argv[4])
        elif argv[1] == "verify":
            out = verify(raw, argv[3])
        else:
            raise Fail("unknown command %s" % argv[1])
    except Exception as e:  # every failure is a refusal, reported with its reason
        sys.stderr.write("%s: %s\n" % (type(e).__name__, e))
        return 1
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
