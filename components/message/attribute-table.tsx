import type { ReactNode } from "react";

/** A two-column definition table (name → value). Values are rendered as given: text unless a node is passed. */
export function AttributeTable({ rows, label }: { rows: [string, ReactNode][]; label: string }) {
  return (
    <table aria-label={label} className="w-full text-left text-sm">
      <tbody>
        {rows.map(([name, value]) => (
          <tr key={name} className="border-b border-line align-top last:border-0">
            <th scope="row" className="w-40 py-1.5 pr-4 font-mono text-xs font-normal text-muted">
              {name}
            </th>
            <td className="py-1.5 break-all">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
