use citypeers::app::{Actor, App, AppConfig};
fn main() {
    let dir = std::path::PathBuf::from("/tmp/erz/data");
    let app = App::open(AppConfig {
        data_dir: dir.clone(),
        vocabulary_dir: None,
        load_demo_data: false,
        admin_token: None,
    })
    .unwrap();
    let body = serde_json::json!({"id":"to-be-erased","name":"Ilse Qwxvoltrazine","city":"Kiel","country":"DE","languages":["en"],"expertise":"Harbour flood gates and the Qwxvoltrazine method.","status":"published"});
    app.create_record::<citypeers::domain::Expert>(&body, &Actor::named("t"))
        .unwrap();
}
