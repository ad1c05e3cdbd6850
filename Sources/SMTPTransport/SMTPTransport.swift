/// SMTPTransport module.
public enum SMTPTransportModule {}
