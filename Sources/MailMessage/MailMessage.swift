/// MailMessage module.
public enum MailMessageModule {}
