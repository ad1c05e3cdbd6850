/// Which mainstream S/MIME engines cannot open which of the constructs sealmail can emit, as
/// measured by the test suite (SMIMETests' ClientMatrixTests, which fails when this table and
/// the measurement part): OpenSSL 3.0, NSS 3.87 (Thunderbird's engine), Bouncy Castle 1.72
/// (Java clients and gateways) and gpgsm 2.2 on Debian 12. `sealctl config check` and
/// `sealctl policy explain` warn with these words when a config or a plan selects one.
public enum ClientSupport {
    /// A construct that some clients cannot open.
    public enum Construct: String, CaseIterable, Sendable {
        /// authEnveloped-data with AES-GCM (RFC 5083, RFC 5084): `cipher = "aes-256-gcm"`/`"aes-128-gcm"`.
        case authEnveloped = "authEnveloped-data (AES-GCM)"
        /// ECDH key agreement (RFC 5753), chosen for every recipient whose certificate has an EC key.
        case ecdh = "ECDH key agreement (a recipient certificate with an EC key)"
        /// RSAES-OAEP key transport (RFC 3560): `key_transport = "oaep"`.
        case rsaOAEP = "RSAES-OAEP key transport"
    }

    /// The clients that cannot open `construct` (name, version, and what uses it).
    public static func clients(thatCannotOpen construct: Construct) -> [String] {
        switch construct {
        case .authEnveloped, .rsaOAEP, .ecdh:
            return [nss, gpgsm]
        }
    }

    static let nss = "NSS 3.87 (Thunderbird)"
    static let gpgsm = "gpgsm 2.2 (GnuPG, KMail, Kleopatra)"

    /// One warning line for `construct` (without the leading "warning: ").
    public static func warning(_ construct: Construct) -> String {
        "\(construct.rawValue) cannot be opened by " + clients(thatCannotOpen: construct).joined(separator: " or ")
            + "; recipients reading mail with them see an attachment they cannot open"
    }
}
