import nodemailer from 'nodemailer';

export interface OutgoingMessage {
  to: string;
  subject: string;
  text: string;
}

/** Where messages go. `smtp` delivers through a mail server; `outbox` records them as delivered. */
export interface Transport {
  readonly name: 'smtp' | 'outbox';
  send(message: OutgoingMessage): Promise<void>;
}

/** SMTP through nodemailer, e.g. `smtp://user:pass@mail.example.com:587`. */
export function smtpTransport(url: string, from: string): Transport {
  const mailer = nodemailer.createTransport(url);
  return {
    name: 'smtp',
    async send(message) {
      await mailer.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}

/**
 * The built-in transport when no SMTP server is configured: the message row itself is the
 * delivered copy, readable through `notifications.list`.
 */
export const outboxTransport: Transport = {
  name: 'outbox',
  async send() {},
};
