/// SMIME module.
public enum SMIMEModule {}
