"""Best configuration: the best complete trial's optimizer, LR, arguments, schedule, metrics
and epochs, and — when the launcher re-trained the top trials on fresh seeds — the chosen
configuration with its mean metrics; as copyable JSON (what `tuner best --format json`
prints), TOML (to paste into a spec) and PyTorch lines of the recommended configuration (the
re-trained choice if any, as `tuner best --format toml/torch`), the `tuner best` command, and
the runner-up configurations beside it."""

import json

import streamlit as st

from tuner.dashboard import data, loaders, session, stats
from tuner.dashboard.text import md, number
from tuner.export import recommended, to_toml, to_torch

choice = session.current()
st.title("Best configuration")


def args_text(args: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items()) or "—"


def retrained_choice(again: dict, metric: str) -> None:
    """The launcher's re-trained choice: which trials, the chosen one, its means over seeds."""
    seeds, ci = len(again["seeds"]), again["ci95"]
    st.subheader(f"Recommended: trial {again['trial']}")
    trials = ", ".join(str(c["trial"]) for c in again["candidates"])
    st.caption(f"Trials {trials} re-trained on {seeds} fresh seeds each; chosen by the lowest "
               "mean validation loss. The exports below are this configuration.")
    a, b, c = st.columns(3)
    a.metric(f"validation {md(metric)}, mean", number(again["val_metric"]))
    b.metric(f"test {md(metric)}, mean", number(again["test_metric"]))
    c.metric("95% CI of the test mean",
             f"{number(ci[0])} to {number(ci[1])}" if ci else "—")
    if again["diverged"]:
        st.warning(f"{again['diverged']} of its {seeds} runs diverged.")
    st.dataframe(config_rows(again["config"]), hide_index=True, width="stretch")


def config_rows(config: dict) -> list[dict]:
    return [{"setting": "optimizer", "value": str(config.get("optimizer"))},
            {"setting": "learning rate", "value": number(config.get("lr"), 6)},
            {"setting": "optimizer arguments", "value": args_text(config.get("optimizer_args")
                                                                  or {})},
            {"setting": "schedule", "value": str(config.get("schedule"))},
            {"setting": "schedule arguments", "value": args_text(config.get("schedule_args")
                                                                 or {})},
            {"setting": "warm-up epochs", "value": str(config.get("warmup_epochs", 0))}]


@st.fragment(run_every=choice.run_every)
def best_configuration() -> None:
    view = session.open_study(choice)
    if view is None or not session.need_complete(view):
        return
    ranked = stats.ranked_complete(view.trials, view.direction)
    if ranked.empty:
        st.info("No complete trial has a finite value: there is no best configuration to show.")
        return
    top = ranked.iloc[0]
    params = loaders.trial_params(view.url, view.study_id, int(top["number"]))
    best = data.best_record(view.info, top, params)
    best["retrained"] = data.retrained(view.info, ranked, engine=loaders.engine(view.url))
    config = best["config"]
    left, right = st.columns([3, 2], gap="large")
    with left:
        if best["retrained"]:
            retrained_choice(best["retrained"], view.metric)
        st.subheader(f"Best trial {best['trial']}, its own seed" if best["retrained"]
                     else f"Trial {best['trial']}")
        a, b, c = st.columns(3)
        a.metric(f"validation {md(view.metric)}", number(best["val_metric"]))
        b.metric(f"test {md(view.metric)}", number(best["test_metric"]))
        c.metric("epochs trained", "—" if best["epochs"] is None else best["epochs"])
        st.dataframe(config_rows(config), hide_index=True, width="stretch")
        json_tab, toml_tab, torch_tab, cli_tab = st.tabs(
            ["JSON", "TOML (spec)", "PyTorch", "tuner best"])
        json_tab.code(json.dumps(best, indent=2), language="json")
        try:
            toml_tab.code(to_toml(recommended(best)), language="toml")
            torch_tab.code(to_torch(recommended(best)), language="python")
        except (KeyError, TypeError, ValueError) as e:
            toml_tab.warning("This configuration cannot be exported: " + md(e))
        cli_tab.code(data.best_command(view.info["study"], view.url), language="bash")
    with right:
        st.subheader("Runners-up")
        runners = ranked.iloc[1:11][["number", "value", "optimizer", "lr", "momentum",
                                     "schedule", "test_metric", "optimizer_args",
                                     "schedule_args"]]
        if runners.empty:
            st.info("Only one trial has completed so far.")
        else:
            st.dataframe(runners, hide_index=True, width="stretch", column_config={
                "number": st.column_config.NumberColumn("trial"),
                "value": st.column_config.NumberColumn(f"val {view.metric}", format="%.4g"),
                "lr": st.column_config.NumberColumn("LR", format="%.3g"),
                "momentum": st.column_config.NumberColumn(format="%.3f"),
                "test_metric": st.column_config.NumberColumn(f"test {view.metric}",
                                                             format="%.4g")})


best_configuration()
