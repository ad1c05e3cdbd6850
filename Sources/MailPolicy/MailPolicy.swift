/// MailPolicy module.
public enum MailPolicyModule {}
