import type { Metadata } from "next";
import { LoginForm } from "@/components/login/login-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  return (
    <div className="mx-auto mt-12 max-w-sm rounded-lg border border-line bg-surface p-6">
      <h1 className="mb-1 text-lg font-semibold">Sign in to whisper</h1>
      <p className="mb-5 text-sm text-muted">The dashboard and its API need the admin token.</p>
      <LoginForm next={typeof next === "string" ? next : undefined} />
    </div>
  );
}
