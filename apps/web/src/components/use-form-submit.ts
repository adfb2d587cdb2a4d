import { useState } from 'react';
import { type FieldErrors, serverFieldErrors, zodFieldErrors } from '@/lib/form-errors';

/** What a zod schema's `safeParse` returns. */
type Parsed<Input> =
  | { success: true; data: Input }
  | { success: false; error: Parameters<typeof zodFieldErrors>[0] };

/**
 * The sending half of a console form. Each form checks its input with its service's own schema;
 * `sendParsed` shows what that check found beside the fields, or sends the input it accepted.
 * While the call runs the form is pending, and what the service says about fields lands beside the
 * same fields.
 */
export function useFormSubmit() {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [pending, setPending] = useState(false);

  async function send(call: () => Promise<void>) {
    setPending(true);
    setErrors({});
    try {
      await call();
    } catch (error) {
      setErrors(serverFieldErrors(error));
    } finally {
      setPending(false);
    }
  }

  async function sendParsed<Input>(parsed: Parsed<Input>, call: (input: Input) => Promise<void>) {
    if (!parsed.success) {
      setErrors(zodFieldErrors(parsed.error));
      return;
    }
    await send(() => call(parsed.data));
  }

  return { errors, setErrors, pending, send, sendParsed };
}
