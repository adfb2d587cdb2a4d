/**
 * A dialog form's Cancel and submit buttons. While the form is sent, the submit button is disabled
 * and says so, so a second click cannot send it twice.
 */
export function FormActions({
  submitLabel,
  pendingLabel = 'Saving…',
  pending,
  onCancel,
}: {
  submitLabel: string;
  /** @defaultValue 'Saving…' */
  pendingLabel?: string;
  pending: boolean;
  onCancel: () => void;
}) {
  return (
    <div className="form-actions">
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? pendingLabel : submitLabel}
      </button>
    </div>
  );
}
