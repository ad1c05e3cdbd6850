/// SMTPTestSupport module.
public enum SMTPTestSupportModule {}
