/// SendmailKit module.
public enum SendmailKitModule {}
