"use client";

import { useState, type FormEvent } from "react";
import { useCreateTopic } from "../api/hooks";
import { Button } from "../ui/button";
import { CheckboxField, TextField } from "../ui/field";
import { ErrorState } from "../ui/states";

/** POST /api/topics { name, ordering }. The server validates the name; its problem body is shown as is. */
export function CreateTopicForm() {
  const [name, setName] = useState("");
  const [ordering, setOrdering] = useState(false);
  const create = useCreateTopic();

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), ordering },
      {
        onSuccess: () => {
          setName("");
          setOrdering(false);
        },
      },
    );
  }

  return (
    <form onSubmit={submit} aria-label="Create topic" className="flex flex-col gap-3">
      <div className="flex flex-wrap items-end gap-3">
        <TextField
          label="New topic name"
          name="name"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="orders"
          className="min-w-56 flex-1"
        />
        <CheckboxField
          label="Ordered (ordering keys)"
          checked={ordering}
          onChange={(e) => setOrdering(e.target.checked)}
          className="pb-2"
        />
        <Button type="submit" variant="primary" disabled={create.isPending || name.trim() === ""}>
          {create.isPending ? "Creating…" : "Create topic"}
        </Button>
      </div>
      {create.isError && <ErrorState title="Could not create the topic" error={create.error} />}
      {create.isSuccess && (
        <p role="status" className="text-sm text-ok">
          Created topic {create.data.name}.
        </p>
      )}
    </form>
  );
}
