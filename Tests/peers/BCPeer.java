// Bouncy Castle (Debian's libbcmail-java, libbcpkix-java, libbcprov-java 1.72, with javax.mail
// from libmail-java) as an S/MIME peer for the tests: an implementation no one here wrote, as in
// Java mail clients and gateways (CipherMail). Compiled by the tests with javac (classpath from
// /usr/share/java) and run once per check. Verbs:
//
//   decrypt --cert C --key K --in MSG --out ENTITY
//       Opens application/pkcs7-mime enveloped-data (bcmail's SMIMEEnveloped) or
//       authEnveloped-data (bcpkix's CMSAuthEnvelopedData: bcmail 1.72 has no SMIME class for it).
//       Prints "DECRYPTED <smime-type> <content-encryption OID> <key transport or agreement OID>".
//   verify --ca CA --in MSG --out CONTENT [--at EPOCH]
//       Verifies multipart/signed or opaque signed-data (bcmail's SMIMESigned), each signer's
//       signature and its chain to CA (PKIX, no revocation) at EPOCH or now.
//       Prints "GOODSIG <subject> <signature algorithm OID>" per signer; exit 2 on a bad signature,
//       3 on an untrusted signer.
//   sign --cert C --key K --in ENTITY --out MSG [--opaque] [--pss] [--digest SHA256] [--header "Name: value"]...
//       Signs a MIME entity: multipart/signed (SMIMESignedGenerator.generate) or opaque signed-data
//       (generateEncapsulated), with SMIMECapabilities.
//   encrypt --cert C [--cert C2]... --in ENTITY --out MSG [--oaep] [--cipher aes-256-cbc|aes-128-cbc|aes-256-gcm]
//       [--header "Name: value"]...
//       EnvelopedData through SMIMEEnvelopedGenerator (RSA PKCS #1 v1.5 or OAEP-SHA256; EC certificates
//       get ECDH with the SHA-256 KDF), or AuthEnvelopedData (GCM) through CMSAuthEnvelopedDataGenerator,
//       framed as application/pkcs7-mime by javax.mail.
//
// Any other failure: the exception on stderr and exit 1.

import java.io.*;
import java.math.BigInteger;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.*;
import java.util.*;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.mail.Session;
import javax.mail.internet.*;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMECapabilitiesAttribute;
import org.bouncycastle.asn1.smime.SMIMECapability;
import org.bouncycastle.asn1.smime.SMIMECapabilityVector;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.*;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.mail.smime.*;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaAlgorithmParametersConverter;
import org.bouncycastle.util.encoders.Base64;

public final class BCPeer {
    static final String BC = "BC";

    public static void main(String[] args) {
        Security.addProvider(new BouncyCastleProvider());
        try {
            Map<String, List<String>> o = options(args);
            switch (args.length > 0 ? args[0] : "") {
                case "decrypt": decrypt(o); break;
                case "verify": System.exit(verify(o)); break;
                case "sign": sign(o); break;
                case "encrypt": encrypt(o); break;
                default: throw new IllegalArgumentException("verb: decrypt | verify | sign | encrypt");
            }
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    static Map<String, List<String>> options(String[] args) {
        Map<String, List<String>> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            boolean flag = name.equals("--opaque") || name.equals("--pss") || name.equals("--oaep");
            String value = flag ? "" : args[++i];
            o.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return o;
    }

    static String one(Map<String, List<String>> o, String name) {
        List<String> v = o.get(name);
        if (v == null) throw new IllegalArgumentException("missing " + name);
        return v.get(0);
    }

    static X509Certificate certificate(String path) throws Exception {
        try (InputStream in = new FileInputStream(path)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509", BC).generateCertificate(in);
        }
    }

    static PrivateKey key(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            Object o = p.readObject();
            JcaPEMKeyConverter c = new JcaPEMKeyConverter().setProvider(BC);
            if (o instanceof PEMKeyPair) return c.getKeyPair((PEMKeyPair) o).getPrivate();
            if (o instanceof PrivateKeyInfo) return c.getPrivateKey((PrivateKeyInfo) o);
            throw new IllegalArgumentException(path + ": not an unencrypted private key");
        }
    }

    static MimeMessage message(String path) throws Exception {
        try (InputStream in = new FileInputStream(path)) {
            return new MimeMessage(Session.getDefaultInstance(new Properties()), in);
        }
    }

    /// The entity to protect, as a body part (headers and body as in the file).
    static MimeBodyPart entity(String path) throws Exception {
        try (InputStream in = new FileInputStream(path)) { return new MimeBodyPart(in); }
    }

    /// A message with the caller's header fields around `content`; written with CRLF.
    static void writeMessage(Map<String, List<String>> o, Object content, String contentType,
                             Map<String, String> extra, String out) throws Exception {
        MimeMessage m = new MimeMessage(Session.getDefaultInstance(new Properties()));
        for (String h : o.getOrDefault("--header", List.of())) {
            int colon = h.indexOf(':');
            m.addHeader(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
        }
        m.setContent(content, contentType);
        for (Map.Entry<String, String> e : extra.entrySet()) m.setHeader(e.getKey(), e.getValue());
        m.saveChanges();
        for (Map.Entry<String, String> e : extra.entrySet()) m.setHeader(e.getKey(), e.getValue());
        try (OutputStream os = new FileOutputStream(out)) { m.writeTo(os); }
    }

    // MARK: decrypt

    static void decrypt(Map<String, List<String>> o) throws Exception {
        X509Certificate cert = certificate(one(o, "--cert"));
        PrivateKey key = key(one(o, "--key"));
        MimeMessage m = message(one(o, "--in"));
        String type = new ContentType(m.getContentType()).getParameter("smime-type");
        byte[] plain;
        String cipherOID;
        RecipientInformation ri;
        if ("authEnveloped-data".equalsIgnoreCase(type)) {
            byte[] der = readAll(m.getInputStream());
            CMSAuthEnvelopedData d = new CMSAuthEnvelopedData(der);
            ri = recipient(d.getRecipientInfos(), cert);
            cipherOID = org.bouncycastle.asn1.cms.AuthEnvelopedData.getInstance(d.toASN1Structure().getContent())
                .getAuthEncryptedContentInfo().getContentEncryptionAlgorithm().getAlgorithm().getId();
            plain = ri.getContent(recipientFor(ri, key, true));
        } else {
            SMIMEEnveloped d = new SMIMEEnveloped(m);
            ri = recipient(d.getRecipientInfos(), cert);
            cipherOID = d.getEncryptionAlgOID();
            plain = ri.getContent(recipientFor(ri, key, false));
        }
        Files.write(Paths.get(one(o, "--out")), plain);
        System.out.println("DECRYPTED " + type + " " + cipherOID + " " + ri.getKeyEncryptionAlgOID());
    }

    static RecipientInformation recipient(RecipientInformationStore store, X509Certificate cert) throws Exception {
        X509CertificateHolder holder = new X509CertificateHolder(cert.getEncoded());
        for (RecipientInformation ri : store.getRecipients()) {
            if (ri.getRID().match(holder)) return ri;
        }
        throw new IllegalStateException("no RecipientInfo for " + cert.getSubjectX500Principal()
                                        + " among " + store.size());
    }

    static Recipient recipientFor(RecipientInformation ri, PrivateKey key, boolean auth) {
        if (ri instanceof KeyAgreeRecipientInformation) {
            return new JceKeyAgreeEnvelopedRecipient(key).setProvider(BC);
        }
        if (auth) return new JceKeyTransAuthEnvelopedRecipient(key).setProvider(BC);
        return new JceKeyTransEnvelopedRecipient(key).setProvider(BC);
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toByteArray();
    }

    // MARK: verify

    static int verify(Map<String, List<String>> o) throws Exception {
        X509Certificate ca = certificate(one(o, "--ca"));
        Date at = o.containsKey("--at") ? new Date(Long.parseLong(one(o, "--at")) * 1000) : new Date();
        MimeMessage m = message(one(o, "--in"));
        SMIMESigned s = m.isMimeType("multipart/signed") ? new SMIMESigned((MimeMultipart) m.getContent())
                                                         : new SMIMESigned(m);
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter().setProvider(BC);
        int status = 0;
        for (SignerInformation si : s.getSignerInfos().getSigners()) {
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> found = s.getCertificates().getMatches(si.getSID());
            if (found.isEmpty()) { System.out.println("NOCERT"); return 3; }
            X509Certificate signer = conv.getCertificate(found.iterator().next());
            boolean good;
            try {
                good = si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(signer));
            } catch (CMSSignerDigestMismatchException e) {
                good = false;
            }
            if (!good) { System.out.println("BADSIG " + signer.getSubjectX500Principal()); return 2; }
            List<X509Certificate> path = new ArrayList<>();
            path.add(signer);
            for (X509CertificateHolder h : (Collection<X509CertificateHolder>) s.getCertificates().getMatches(null)) {
                X509Certificate c = conv.getCertificate(h);
                if (!c.equals(signer) && !c.equals(ca)) path.add(c);
            }
            try {
                PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
                params.setRevocationEnabled(false);
                params.setDate(at);
                CertPathValidator.getInstance("PKIX", BC)
                    .validate(CertificateFactory.getInstance("X.509", BC).generateCertPath(path), params);
            } catch (CertPathValidatorException e) {
                System.out.println("UNTRUSTED " + signer.getSubjectX500Principal() + ": " + e.getMessage());
                status = 3;
                continue;
            }
            System.out.println("GOODSIG " + signer.getSubjectX500Principal() + " " + si.getEncryptionAlgOID());
        }
        try (OutputStream os = new FileOutputStream(one(o, "--out"))) { s.getContent().writeTo(os); }
        return status;
    }

    // MARK: sign

    static void sign(Map<String, List<String>> o) throws Exception {
        X509Certificate cert = certificate(one(o, "--cert"));
        PrivateKey key = key(one(o, "--key"));
        String digest = o.containsKey("--digest") ? one(o, "--digest") : "SHA256";
        String alg = key.getAlgorithm().startsWith("EC") ? digest + "withECDSA"
                   : o.containsKey("--pss") ? digest + "withRSAandMGF1" : digest + "withRSA";
        SMIMECapabilityVector caps = new SMIMECapabilityVector();
        caps.addCapability(SMIMECapability.aES256_CBC);
        caps.addCapability(SMIMECapability.aES128_CBC);
        ASN1EncodableVector signed = new ASN1EncodableVector();
        signed.add(new SMIMECapabilitiesAttribute(caps));
        SMIMESignedGenerator gen = new SMIMESignedGenerator();
        gen.addSignerInfoGenerator(new JcaSimpleSignerInfoGeneratorBuilder().setProvider(BC)
            .setSignedAttributeGenerator(new AttributeTable(signed)).build(alg, key, cert));
        gen.addCertificates(new JcaCertStore(List.of(cert)));
        MimeBodyPart part = entity(one(o, "--in"));
        if (o.containsKey("--opaque")) {
            MimeBodyPart opaque = gen.generateEncapsulated(part);
            writeMessage(o, opaque.getContent(), opaque.getContentType(),
                         Map.of("Content-Transfer-Encoding", "base64",
                                "Content-Disposition", "attachment; filename=\"smime.p7m\""), one(o, "--out"));
        } else {
            MimeMultipart mm = gen.generate(part);
            writeMessage(o, mm, mm.getContentType(), Map.of(), one(o, "--out"));
        }
    }

    // MARK: encrypt

    static void encrypt(Map<String, List<String>> o) throws Exception {
        String cipherName = o.containsKey("--cipher") ? one(o, "--cipher") : "aes-256-cbc";
        ASN1ObjectIdentifier cipher;
        switch (cipherName) {
            case "aes-256-cbc": cipher = CMSAlgorithm.AES256_CBC; break;
            case "aes-128-cbc": cipher = CMSAlgorithm.AES128_CBC; break;
            case "aes-256-gcm": cipher = CMSAlgorithm.AES256_GCM; break;
            default: throw new IllegalArgumentException("cipher " + cipherName);
        }
        List<RecipientInfoGenerator> infos = new ArrayList<>();
        for (String path : o.get("--cert")) {
            X509Certificate cert = certificate(path);
            if (cert.getPublicKey().getAlgorithm().startsWith("EC")) {
                KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", BC);
                kpg.initialize(((java.security.interfaces.ECPublicKey) cert.getPublicKey()).getParams());
                KeyPair eph = kpg.generateKeyPair();
                infos.add(new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF, eph.getPrivate(),
                        eph.getPublic(), cipherName.startsWith("aes-128") ? CMSAlgorithm.AES128_WRAP : CMSAlgorithm.AES256_WRAP)
                    .addRecipient(cert).setProvider(BC));
            } else if (o.containsKey("--oaep")) {
                AlgorithmIdentifier oaep = new JcaAlgorithmParametersConverter().getAlgorithmIdentifier(
                    PKCSObjectIdentifiers.id_RSAES_OAEP,
                    new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
                infos.add(new JceKeyTransRecipientInfoGenerator(cert, oaep).setProvider(BC));
            } else {
                infos.add(new JceKeyTransRecipientInfoGenerator(cert).setProvider(BC));
            }
        }
        MimeBodyPart part = entity(one(o, "--in"));
        if (cipherName.endsWith("gcm")) {
            CMSAuthEnvelopedDataGenerator gen = new CMSAuthEnvelopedDataGenerator();
            for (RecipientInfoGenerator g : infos) gen.addRecipientInfoGenerator(g);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            part.writeTo(bytes);
            CMSAuthEnvelopedData d = gen.generate(new CMSProcessableByteArray(bytes.toByteArray()),
                (org.bouncycastle.operator.OutputAEADEncryptor) new JceCMSContentEncryptorBuilder(cipher).setProvider(BC).build());
            writeMessage(o, d.getEncoded(), "application/pkcs7-mime; smime-type=authEnveloped-data; name=\"smime.p7m\"",
                         Map.of("Content-Transfer-Encoding", "base64",
                                "Content-Disposition", "attachment; filename=\"smime.p7m\""), one(o, "--out"));
        } else {
            SMIMEEnvelopedGenerator gen = new SMIMEEnvelopedGenerator();
            for (RecipientInfoGenerator g : infos) gen.addRecipientInfoGenerator(g);
            MimeBodyPart enc = gen.generate(part, new JceCMSContentEncryptorBuilder(cipher).setProvider(BC).build());
            writeMessage(o, enc.getContent(), enc.getContentType(),
                         Map.of("Content-Transfer-Encoding", "base64",
                                "Content-Disposition", "attachment; filename=\"smime.p7m\""), one(o, "--out"));
        }
    }
}
