//! A team's widget settings: stored whole, read back by every way of finding the team.

use super::*;
use crate::domain::widget::{Position, WidgetSettings};

on_every_store!(widget_settings_are_stored_and_read_back);

async fn widget_settings_are_stored_and_read_back(f: Fixture) {
    let fresh = f.store.team(f.team).await.unwrap().expect("the team");
    assert_eq!(
        fresh.widget,
        WidgetSettings::default(),
        "defaults before any change"
    );
    let chosen = WidgetSettings {
        title: "Support".into(),
        greeting: String::new(),
        color: "#123abc".into(),
        position: Position::Left,
        allowed_origins: vec!["https://shop.example".into()],
    };
    f.store.set_widget(f.team, &chosen).await.unwrap();
    let by_seq = f.store.team(f.team).await.unwrap().unwrap();
    assert_eq!(by_seq.widget, chosen);
    let by_site = f.store.team_by_site_key("pk").await.unwrap().unwrap();
    assert_eq!(by_site.widget, chosen);
    let by_key = f.store.team_by_api_key_hash("h").await.unwrap().unwrap();
    assert_eq!(by_key.widget, chosen);
    assert!(f.store.team(f.team + 1000).await.unwrap().is_none());
    let missing = f.store.set_widget(f.team + 1000, &chosen).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}
