/// MailQueue module.
public enum MailQueueModule {}
