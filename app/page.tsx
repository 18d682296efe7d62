import { redirect } from "next/navigation";

// The landing page is the overview of every target (DESIGN §8).
export default function Home() {
  redirect("/overview");
}
