import { SelectField } from '@/components/ui';

/** A list filter over a fixed set of names; its first option, `anyLabel`, means no filter (`''`). */
export function FilterSelect<Name extends string>({
  label,
  anyLabel,
  options,
  value,
  onChange,
}: {
  label: string;
  anyLabel: string;
  options: readonly Name[];
  value: Name | '';
  onChange: (value: Name | '') => void;
}) {
  return (
    <SelectField label={label} value={value} onChange={(event) => onChange(event.target.value as Name | '')}>
      <option value="">{anyLabel}</option>
      {options.map((name) => (
        <option key={name} value={name}>
          {name}
        </option>
      ))}
    </SelectField>
  );
}
