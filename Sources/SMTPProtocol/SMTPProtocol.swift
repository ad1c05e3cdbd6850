/// SMTPProtocol module.
public enum SMTPProtocolModule {}
